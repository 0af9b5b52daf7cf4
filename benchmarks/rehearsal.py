"""Wall time of every notebook under each tier: offline, the cpu and gpu rehearsals, the OpenAI branch.

    .venv/bin/python -m benchmarks.rehearsal [--write-results] [chapter05 ...]

Runs each notebook in a fresh kernel with the same runner the rehearsal test uses (tools/rehearsal),
one after another, and prints a Markdown table; ``--write-results`` writes it to
benchmarks/results/rehearsal.md. Run it on an otherwise idle machine: the times are what a test run
of the same notebooks costs here.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.rehearsal.run import OPENAI_CHAPTERS, Rehearsal, RehearsalFailure  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "rehearsal.md"
COLUMNS = ("offline", "cpu", "gpu", "openai")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rehearsal")
    parser.add_argument("chapters", nargs="*", help="e.g. chapter05 (default: all)")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    notebooks = sorted(p for p in ROOT.glob("chapter*/*.ipynb")
                       if not args.chapters or p.parent.name in args.chapters)
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work, Rehearsal(Path(work)) as rehearsal:
        for notebook in notebooks:
            cells = []
            for mode in COLUMNS:
                if mode == "openai" and notebook.parent.name not in OPENAI_CHAPTERS:
                    cells.append("—")
                    continue
                with tempfile.TemporaryDirectory() as home:
                    try:
                        run = rehearsal.run(notebook, mode, Path(home))
                        extra = f", {run.openai_calls} OpenAI calls" if mode == "openai" else ""
                        cells.append(f"pass, {run.seconds:.0f} s{extra}")
                    except RehearsalFailure as failure:
                        cells.append("FAIL: " + str(failure).splitlines()[0][:80])
                print(f"{notebook.parent.name} {mode}: {cells[-1]}", flush=True)
            rows.append(f"| {notebook.relative_to(ROOT).as_posix()} | " + " | ".join(cells) + " |")
    total = time.monotonic() - started
    table = "\n".join([
        "| notebook | offline | cpu rehearsal | gpu rehearsal | OpenAI branch |",
        "|---|---|---|---|---|",
        *rows,
    ])
    print(table)
    print(f"total {total:.0f} s")
    if args.write_results:
        RESULTS.write_text(
            "# Rehearsal tier: every notebook under each profile's code path\n\n"
            f"Measured {time.strftime('%Y-%m-%d')} with `python -m benchmarks.rehearsal --write-results` on "
            f"{platform.machine()}, Python {platform.python_version()}, an otherwise idle 2-core machine; "
            "each run in a fresh kernel with an empty Hugging Face cache, so every file travels through the "
            "local Hub. `gpu` is rehearsed without CUDA (LLMBOOK_GPU_WITHOUT_CUDA=1). Wall time per notebook.\n\n"
            f"{table}\n\nTotal: {total:.0f} s.\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
