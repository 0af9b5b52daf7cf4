"""Execute chapter notebooks under a profile; record wall time and peak memory as a markdown table.

    .venv/bin/python benchmarks/notebook_resources.py [chapter01 ...] [--profile offline]

Each notebook runs in fresh processes (``python -m tools.run_notebooks``), as `book.py run`
does. Peak memory is the largest resident set of any process it started -- in practice the
Jupyter kernel -- read from the operating system's accounting of finished children
(``getrusage(RUSAGE_CHILDREN)``), so no sampling can miss a short peak. Results are merged into
``benchmarks/results/notebooks-<profile>.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.run_notebooks import chapter_notebooks

HEADER = "| notebook | profile | wall time (s) | peak memory (MiB) | date | machine |\n|---|---|---|---|---|---|"


def execute_and_report(notebook: str, profile: str) -> None:
    """Run one notebook as a child and print its wall time and the peak RSS of its descendants.

    Called in a fresh process per notebook, so the RUSAGE_CHILDREN maximum is that notebook's own.
    """
    env = {**os.environ, "LLMBOOK_PROFILE": profile}
    if profile == "offline":
        env.setdefault("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "tools.run_notebooks", notebook], cwd=ROOT, env=env, check=True)
    elapsed = time.monotonic() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KiB
    print(f"RESULT {elapsed:.1f} {peak_mib:.1f}")


def measure(notebook: Path, profile: str) -> tuple[float, float]:
    """Wall time (s) and peak memory (MiB) of executing one notebook in its own processes."""
    chapter = str(notebook.parent.relative_to(ROOT))
    result = subprocess.run([sys.executable, __file__, "--one", chapter, "--profile", profile],
                            cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    line = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")][-1]
    elapsed, peak = (float(x) for x in line.split()[1:])
    return elapsed, peak


def merge(table: Path, rows: dict[str, str]) -> None:
    """Replace the rows of the notebooks just measured, keep the others."""
    existing = {}
    if table.exists():
        for line in table.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\| (chapter\S+) \|", line)
            if match:
                existing[match.group(1)] = line
    existing.update(rows)
    body = "\n".join(existing[key] for key in sorted(existing))
    table.write_text(f"# Notebook wall time and peak memory\n\nWritten by `benchmarks/notebook_resources.py`.\n\n"
                     f"{HEADER}\n{body}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("chapters", nargs="*")
    parser.add_argument("--profile", default=os.environ.get("LLMBOOK_PROFILE", "offline"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        execute_and_report(args.one, args.profile)
        return
    machine = f"{os.cpu_count()} cores, {platform.machine()}"
    rows = {}
    for notebook in chapter_notebooks(args.chapters):
        elapsed, peak = measure(notebook, args.profile)
        name = str(notebook.relative_to(ROOT))
        rows[name] = f"| {name} | {args.profile} | {elapsed:.0f} | {peak:,.0f} | {date.today()} | {machine} |"
        print(rows[name], flush=True)
    merge(ROOT / "benchmarks" / "results" / f"notebooks-{args.profile}.md", rows)


if __name__ == "__main__":
    main()
