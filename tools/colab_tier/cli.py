"""``python -m tools.colab_tier``: the options, the run over the chapters, and the hidden ``_drive``
command that ``run_chapter`` starts in the base environment's Python."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from tools import console
from tools.colab_tier.common import RESULTS, ROOT, SNAPSHOT, cache_root, say
from tools.colab_tier.drive import drive, run_chapter
from tools.colab_tier.environment import base_info, base_key, clone_dir, ensure_base, place_repository
from tools.colab_tier.report import markdown_report
from tools.run_notebooks import chapter_notebooks


def write_secrets(items: list[str]) -> Path | None:
    """``--secret NAME=VALUE`` values for the google.colab stub, in a file only this user can read
    (0600, outside the run's folder that is kept) and removed when the run ends, however it ends."""
    if not items:
        return None
    descriptor, name = tempfile.mkstemp(prefix="llmbook-colab-secrets-", suffix=".json")  # mode 0600
    path = Path(name)
    atexit.register(path.unlink, missing_ok=True)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(dict(item.split("=", 1) for item in items), file)
    return path


def parse_args(argv: list[str] | None):
    from tools import colab_tier  # the package's docstring is the help's description

    parser = argparse.ArgumentParser(prog="python -m tools.colab_tier", description=colab_tier.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", nargs="*", default=[],
                        help="chapters to run, e.g. 1 2 or chapter05 (default: all)")
    parser.add_argument("--write-results", action="store_true", help=f"also write {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--keep", action="store_true", help="keep the clone target and the per-chapter environments")
    parser.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE",
                        help="a Colab Secret google.colab.userdata.get returns (default: none, so it raises)")
    parser.add_argument("--rebuild-base", action="store_true", help="build the base environment again")
    parser.add_argument("--base-only", action="store_true", help="build (or check) the base environment and stop")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    parser.add_argument("--python", help="the Python 3.13 to build the base environment with")
    parser.add_argument("--cold-llama", action="store_true",
                        help="give each chapter's llama-cpp-python step an empty wheel cache, as on a fresh runtime")
    parser.add_argument("--no-base-check", action="store_true",
                        help="skip the check that a chapter's installs left the base environment untouched")
    return parser.parse_args(argv)


def drive_main(argv: list[str]) -> int:
    """``_drive``: run one notebook (called by run_chapter in the base environment's Python, never by hand)."""
    parser = argparse.ArgumentParser(prog="python -m tools.colab_tier _drive")
    for option in ("--notebook", "--report", "--hermetic-site", "--workdir", "--env"):
        parser.add_argument(option, type=Path, required=True)
    parser.add_argument("--extras", nargs="*", default=[])
    parser.add_argument("--timeout", type=int, required=True)
    args = parser.parse_args(argv)
    return drive(args.notebook, args.report, args.timeout, args.hermetic_site, args.workdir, args.env, args.extras)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_drive"]:
        return drive_main(argv[1:])
    console.reconfigure()
    args = parse_args(argv)
    notebooks = chapter_notebooks(args.chapters)
    started = time.monotonic()
    built_now = args.rebuild_base or not (cache_root() / f"base-{base_key()}" / ".colab-tier.json").exists()
    base = ensure_base(args.python, args.rebuild_base)
    if args.base_only:
        info = base_info(base)
        say(f"{base}: Python {info['python']}, {len(info['packages'])} packages, built in {info['seconds']} s")
        return 0
    snapshot_text = SNAPSHOT.read_text(encoding="utf-8")
    clone = clone_dir()
    work = cache_root() / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    work.mkdir(parents=True)
    secrets_file = write_secrets(args.secret)
    results = []
    made_parent = not clone.parent.exists()
    try:
        say(f"copying the working tree to {clone}")
        place_repository(clone)
        for notebook in notebooks:
            chapter_work = work / notebook.parent.name
            chapter_work.mkdir(parents=True, exist_ok=True)
            chapter_started = time.monotonic()
            result = run_chapter(notebook, base, chapter_work, clone, args.timeout, secrets_file,
                                 check_base=not args.no_base_check, cold_llama=args.cold_llama)
            results.append(result)
            seconds = time.monotonic() - chapter_started
            say(f"{result.notebook}: {'pass' if result.passed else 'FAIL'} in {seconds:.0f} s"
                + ("" if result.passed else f" ({result.setup_error or result.error})"))
            if not args.keep:
                shutil.rmtree(chapter_work / "env", ignore_errors=True)
    finally:
        if secrets_file:
            secrets_file.unlink(missing_ok=True)
        if not args.keep:
            shutil.rmtree(clone, ignore_errors=True)
            if made_parent:  # /content was made for this run (notebook outputs written there go with it)
                shutil.rmtree(clone.parent, ignore_errors=True)
    total = time.monotonic() - started
    report = markdown_report(results, base, total, snapshot_text, built_now)
    print(report)
    (work / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    say(f"outputs of each set-up cell and the executed notebooks: {work}")
    if args.write_results:
        RESULTS.write_text(report, encoding="utf-8")
        say(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if results and all(r.passed for r in results) else 1
