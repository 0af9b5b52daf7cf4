"""Disk a fresh clone's test command takes: its peak and where it stays.

    python3 benchmarks/disk_usage.py [--write-results]

Clones this repository (HEAD) into a temporary folder and runs ``.ci/run`` there with an empty
offline-asset cache (``LLMBOOK_CACHE``) and an empty temporary folder (``TMPDIR``), as on a machine
that has nothing; only the llama-cpp-python wheel is taken from this machine's cache
(``LLMBOOK_WHEEL_CACHE``), which skips a 4-7 minute build and changes no byte on disk worth counting.
Every 2 seconds it adds up the clone (with its .venv), the cache and the temporary folder, and reports
each one's peak and what is left at the end. ``--write-results`` writes
benchmarks/results/disk.md, which tools/disk_space.py's figures must cover (tests/test_disk_space.py).
Standard library only: it runs before any environment exists.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import disk_space  # noqa: E402  (standard library only)
from tools.disk_space import GIB, tree_size  # noqa: E402

RESULTS = ROOT / disk_space.RESULTS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 benchmarks/disk_usage.py")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="llmbook-disk-") as work:
        work = Path(work)
        places = {"clone (.venv included)": work / "clone", "offline-asset cache": work / "cache",
                  "temporary folder": work / "tmp"}
        subprocess.run(["git", "clone", "-q", str(ROOT), str(places["clone (.venv included)"])], check=True)
        places["offline-asset cache"].mkdir()
        places["temporary folder"].mkdir()
        env = {**os.environ, "LLMBOOK_CACHE": str(places["offline-asset cache"]),
               "TMPDIR": str(places["temporary folder"]),
               "LLMBOOK_WHEEL_CACHE": str(Path.home() / ".cache" / "llmbook" / "wheels")}
        peaks = dict.fromkeys(places, 0)
        peak_total = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_total
            while not done.wait(2):
                sizes = {name: tree_size(path) for name, path in places.items()}
                for name, size in sizes.items():
                    peaks[name] = max(peaks[name], size)
                peak_total = max(peak_total, sum(sizes.values()))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        summary = ""
        with subprocess.Popen(["bash", ".ci/run"], cwd=places["clone (.venv included)"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as run:
            for line in run.stdout:
                print(line, end="", flush=True)
                if re.match(r"^=+ .*\b(passed|failed)\b.* in [\d.]+s", line):
                    summary = line.strip("= \n")
        code = run.returncode
        seconds = time.monotonic() - started
        done.set()
        sampler.join()
        left = {name: tree_size(path) for name, path in places.items()}
        venv = tree_size(places["clone (.venv included)"] / ".venv")
    rows = [f"| {name} | {peaks[name] / GIB:.1f} GiB | {left[name] / GIB:.1f} GiB |" for name in places]
    report = "\n".join([
        "# Disk taken by a fresh clone's `.ci/run` (`python3 book.py test`)",
        "",
        f"Measured with `python3 benchmarks/disk_usage.py` at {commit}, {time.strftime('%Y-%m-%d')}, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores: an empty clone, cache and temporary folder, sampled every 2 s; "
        f"exit code {code}, {seconds / 60:.0f} min; pytest: {summary or 'no summary line'}.",
        "",
        "| where | peak | left at the end |",
        "|---|---|---|",
        *rows,
        f"| **all three together** | **{peak_total / GIB:.1f} GiB** | "
        f"**{sum(left.values()) / GIB:.1f} GiB** |",
        "",
        f"The virtual environment alone: {venv / GIB:.1f} GiB. Not counted: pip's own cache in the home folder, and "
        "the temporary files of a llama-cpp-python build (the wheel came from this machine's cache).",
        "",
    ])
    print(report)
    if args.write_results:
        RESULTS.write_text(report, encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
