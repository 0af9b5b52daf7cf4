"""What every part of the Colab tier shares: where its inputs and outputs are, how it speaks, and the
one way it starts a process."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from llmbook.profiles import cache_dir
from tools import console, notebooks

ROOT = Path(__file__).resolve().parents[2]
# Colab's preinstalled packages: the same file the set-up cells are generated from.
SNAPSHOT = notebooks.COLAB_FREEZE
STUB = ROOT / "tools" / "colab" / "stub"
RESULTS = ROOT / "benchmarks" / "results" / "colab-tier.md"

# tools/console's say, every line marked as the tier's.
say = functools.partial(console.say, source="colab-tier")


def cache_root() -> Path:
    return cache_dir() / "colab-tier"


def run_logged(command: list, log: Path | None = None, *, quiet: bool = False, check: bool = False,
               **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` with its output captured as text; every process the tier starts goes through here.

    The command is said first (unless ``quiet``: the queries repeated for every chapter, such as
    ``pip freeze``), and written with its whole output to ``log`` when there is one, so a failed
    base build can be read afterwards. ``check``: a non-zero exit raises CalledProcessError (with
    the output); otherwise the caller reads ``returncode`` and names the fix itself.
    """
    parts = [str(part) for part in command]
    if not quiet:
        say(" ".join(parts)[:400])
    result = subprocess.run(parts, capture_output=True, text=True, **kwargs)
    if log is not None:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"$ {' '.join(parts)}\n{result.stdout}\n{result.stderr}\n")
    if check:
        result.check_returncode()
    return result
