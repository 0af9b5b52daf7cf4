"""``python -m tools.run_notebooks [chapter01 ...]``: execute chapters headless into executed/."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tools import console

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "executed"
# The one list of the book's chapters in this repository (tests/test_notebook_standard.py keeps it
# equal to the chapter folders); everything else asks here.
CHAPTERS = ("chapter01", "chapter02", "chapter03", "chapter05", "chapter07", "chapter09")
# Chapters whose notebooks need llama-cpp-python (built in a set-up step of its own).
LLAMA_CHAPTERS = ("chapter05", "chapter07")


def all_notebooks() -> list[Path]:
    """Every chapter's notebooks, in chapter order."""
    return [notebook for chapter in CHAPTERS for notebook in sorted((ROOT / chapter).glob("*.ipynb"))]


def chapter_notebooks(names: list[str]) -> list[Path]:
    """The notebooks of the chapters named (``chapter01``, ``1`` or a notebook's path), or of all chapters."""
    if not names:
        return all_notebooks()
    found = []
    for name in names:
        if name.endswith(".ipynb") and (ROOT / name).is_file():
            found.append(ROOT / name)
            continue
        folder = ROOT / (f"chapter{int(name):02d}" if name.isdigit() else name.rstrip("/"))
        notebooks = sorted(folder.glob("*.ipynb"))
        if not notebooks:
            known = ", ".join(CHAPTERS)
            raise SystemExit(f"找不到章節 {name!r} 的 notebook；可用的章節：{known}（也可以只寫數字，例如 3）"
                             f" / no chapter {name!r}; chapters: {known}")
        found += notebooks
    return found


def execute(notebook: Path, timeout: int = 1800) -> Path:
    """Execute ``notebook`` into executed/; a failed run's copy is written too (with its traceback)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(notebook.parent)}}).execute()
    finally:
        target = keep_executed(nb, notebook)
    return target


def keep_executed(nb, notebook: Path, folder: Path = OUTPUT) -> Path:
    """Write an executed (or partly executed) notebook to ``folder``/<its path in the repository>."""
    import nbformat

    target = folder / notebook.resolve().relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def main() -> int:
    console.reconfigure()
    parser = argparse.ArgumentParser(prog="python -m tools.run_notebooks")
    parser.add_argument("chapters", nargs="*")
    args = parser.parse_args()
    failures = 0
    for notebook in chapter_notebooks(args.chapters):
        started = time.monotonic()
        try:
            target = execute(notebook)
        except Exception as error:  # report every chapter, then fail
            failures += 1
            kept = OUTPUT / notebook.relative_to(ROOT)
            print(f"[失敗] {notebook.relative_to(ROOT)}：執行失敗，執行到失敗為止的副本在 {kept}"
                  f" / failed (executed copy with the traceback: {kept}): {error}", file=sys.stderr)
            continue
        print(f"[完成] {target.relative_to(ROOT)}（{time.monotonic() - started:.0f} 秒）", flush=True)
    jupyter = Path(sys.executable).with_name("jupyter.exe" if sys.platform == "win32" else "jupyter")
    print(f"執行過的 notebook 在 {OUTPUT}；用 `{jupyter} lab {OUTPUT.name}` 開啟。")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
