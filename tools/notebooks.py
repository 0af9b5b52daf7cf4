"""The notebook standard: the opening cells every chapter notebook starts with.

Notebooks are written with ``write_notebook`` (opening cells generated here) and checked by
``tests/test_notebook_standard.py`` against ``opening_cells`` -- so the Colab badge, the guarded
set-up cell and the banner cannot drift apart between chapters.
"""

from __future__ import annotations

import re
from pathlib import Path

from llmbook.pins import requirement_pins

# The one setting that Colab badges and set-up cells are generated from.
REPOSITORY = "https://github.com/llmbook-zh-tw/hands-on-llm-zh-tw"
BRANCH = "main"
COLAB_CLONE_DIR = "/content/hands-on-llm-zh-tw"
ROOT = Path(__file__).resolve().parents[1]


def colab_url(notebook: Path) -> str:
    relative = notebook.resolve().relative_to(ROOT).as_posix()
    github = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/{BRANCH}/{relative}"


def title_cell(notebook: Path, title: str) -> str:
    badge = f"[![在 Colab 開啟](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"
    return f"# {title}\n\n{badge}"


def setup_cell(notebook: Path, colab_packages: list[str]) -> str:
    """The guarded set-up cell: installs pinned packages and clones the helpers, only in Colab."""
    pins = requirement_pins()
    missing = [name for name in colab_packages if name.lower() not in pins]
    if missing:
        raise ValueError(f"not pinned in the requirement files: {missing}")
    specs = " ".join(f'"{pins[name.lower()]}"' for name in colab_packages)
    chapter_dir = notebook.resolve().parent.name
    lines = [
        "# 補充：只在 Colab 上安裝套件、下載本書的輔助程式碼；在自己的電腦上這一格什麼都不做。",
        "import sys",
        "",
        'IS_COLAB = "google.colab" in sys.modules',
        "if IS_COLAB:",
        f"    !test -d {COLAB_CLONE_DIR} || git clone --quiet --depth 1 {REPOSITORY} {COLAB_CLONE_DIR}",
    ]
    if specs:
        lines.append(f"    %pip install --quiet {specs}")
    lines.append(f'    sys.path[:0] = ["{COLAB_CLONE_DIR}", "{COLAB_CLONE_DIR}/{chapter_dir}"]')
    return "\n".join(lines)


def banner_cell(chapter: int) -> str:
    return (
        "# 補充：印出函式庫版本、設定檔（profile）、裝置，以及本章的模型在這個設定檔下換成了什麼。\n"
        "from llmbook import show_banner\n"
        "\n"
        f"profile = show_banner(chapter={chapter})"
    )


def opening_cells(notebook: Path, chapter: int, title: str, colab_packages: list[str]) -> list[tuple[str, str]]:
    return [
        ("markdown", title_cell(notebook, title)),
        ("code", setup_cell(notebook, colab_packages)),
        ("code", banner_cell(chapter)),
    ]


def parse_opening(nb) -> dict:
    """Read chapter number, title and Colab packages back from a notebook's opening cells."""
    title = nb.cells[0].source.splitlines()[0].removeprefix("# ").strip()
    chapter = int(re.search(r"show_banner\(chapter=(\d+)\)", nb.cells[2].source).group(1))
    packages = re.findall(r'"([A-Za-z0-9_.\-]+)==', nb.cells[1].source)
    return {"chapter": chapter, "title": title, "colab_packages": packages}


def write_notebook(path: Path, chapter: int, title: str, colab_packages: list[str],
                   cells: list[tuple[str, str]]) -> None:
    """Write a notebook: the standard opening cells, then ``cells`` ([("markdown"|"code", source)])."""
    import nbformat

    path = Path(path)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
        "accelerator": "GPU",
    }
    for kind, source in opening_cells(path, chapter, title, colab_packages) + list(cells):
        source = source.strip("\n")
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"  # stable ids keep diffs small
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
