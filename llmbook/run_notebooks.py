"""``python -m llmbook.run_notebooks [chapter01 ...]``: execute chapters headless into executed/."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "executed"


def chapter_notebooks(names: list[str]) -> list[Path]:
    """The notebooks of the chapters named (``chapter01`` or ``1``), or of all chapters."""
    if not names:
        return sorted(ROOT.glob("chapter*/*.ipynb"))
    found = []
    for name in names:
        folder = ROOT / (f"chapter{int(name):02d}" if name.isdigit() else name.rstrip("/"))
        notebooks = sorted(folder.glob("*.ipynb"))
        if not notebooks:
            known = ", ".join(sorted(p.name for p in ROOT.glob("chapter*") if p.is_dir()))
            raise SystemExit(f"找不到章節 {name!r} 的 notebook；可用的章節：{known}")
        found += notebooks
    return found


def execute(notebook: Path, timeout: int = 1800) -> Path:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    target = OUTPUT / notebook.relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m llmbook.run_notebooks")
    parser.add_argument("chapters", nargs="*")
    args = parser.parse_args()
    failures = 0
    for notebook in chapter_notebooks(args.chapters):
        started = time.monotonic()
        try:
            target = execute(notebook)
        except Exception as error:  # report every chapter, then fail
            failures += 1
            print(f"✗ {notebook.relative_to(ROOT)}：執行失敗 / failed: {error}", file=sys.stderr)
            continue
        print(f"✓ {target.relative_to(ROOT)}（{time.monotonic() - started:.0f} 秒）", flush=True)
    print(f"執行過的 notebook 在 {OUTPUT}/；用 `.venv/bin/jupyter lab {OUTPUT.name}` 開啟。")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
