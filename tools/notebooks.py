"""The notebook standard: the opening cells every chapter notebook starts with.

``python -m tools.notebooks`` rewrites every notebook's opening cells and metadata from here;
``tests/test_notebook_standard.py`` checks them against ``opening_cells`` -- so the Colab badge, the guarded
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


LLAMA_PACKAGE = "llama-cpp-python"
LLAMA_STEP = "tools/llama_build.py"


def setup_cell(notebook: Path, colab_packages: list[str]) -> str:
    """The guarded set-up cell: installs pinned packages and clones the helpers, only in Colab.

    llama-cpp-python, when a chapter needs it, is built in a step of its own by the same script
    ``book.py`` uses (portable CPU flags, no AMX), after everything else is installed.
    """
    pins = requirement_pins()
    missing = [name for name in colab_packages if name.lower() not in pins]
    if missing:
        raise ValueError(f"not pinned in the requirement files: {missing}")
    specs = " ".join(f'"{pins[name.lower()]}"' for name in colab_packages if name != LLAMA_PACKAGE)
    chapter_dir = notebook.resolve().parent.name
    lines = [
        "# 補充：只在 Colab 上安裝套件、下載本書的輔助程式碼；在自己的電腦上這一格什麼都不做。",
        "# Colab 要求重新啟動工作階段之後，再執行一次這一格就能恢復。",
        "import sys",
        "",
        'IS_COLAB = "google.colab" in sys.modules',
        "if IS_COLAB:",
        "    from pathlib import Path",
        "",
        f"    !test -d {COLAB_CLONE_DIR} || git clone --quiet --depth 1 {REPOSITORY} {COLAB_CLONE_DIR}",
        f'    if not Path("{COLAB_CLONE_DIR}/llmbook").is_dir():',
        f'        raise RuntimeError("無法從 {REPOSITORY} 下載本書的輔助程式碼；請確認網路後重新執行這一格。")',
    ]
    if specs:
        lines.append(f"    %pip install --quiet {specs}")
    if LLAMA_PACKAGE in colab_packages:
        lines += [
            "    # llama-cpp-python 另外一步從原始碼編譯（不含 AMX，見 tools/llama_build.py）；編譯失敗時，上面的套件仍已裝好。",
            f"    !{{sys.executable}} {COLAB_CLONE_DIR}/{LLAMA_STEP}",
        ]
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
    if LLAMA_STEP in nb.cells[1].source:
        packages.append(LLAMA_PACKAGE)
    return {"chapter": chapter, "title": title, "colab_packages": packages}


# Colab opens the notebook on a T4 GPU runtime (the book's hardware); elsewhere these keys are ignored.
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
    "colab": {"provenance": [], "gpuType": "T4"},
    "accelerator": "GPU",
}


def refresh_opening(path: Path) -> None:
    """Rewrite a notebook's three opening cells and its metadata from the standard, keeping the rest."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    opening = parse_opening(nb)
    for cell, (kind, source) in zip(nb.cells[:3], opening_cells(path, **opening)):
        assert cell.cell_type == kind, (path, cell.cell_type, kind)
        cell.source = source
    nb.metadata = {**nb.metadata, **NOTEBOOK_METADATA}
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    for notebook in sorted(ROOT.glob("chapter*/*.ipynb")):
        refresh_opening(notebook)
        print(notebook.relative_to(ROOT))
