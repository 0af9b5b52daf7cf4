"""``python -m tools.offline_assets fetch|build``: prepare the offline profile's assets (set-up, not runtime).

fetch: download the llama-cpp-python sdist from PyPI and extract llama.cpp's vocabulary files into the
cache; build: fetch, then run every builder of the substitution table once (each is cached).
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from llmbook.models import build_offline
from llmbook.offline.sources import llama_cpp_version
from llmbook.profiles import cache_dir
from llmbook.substitutions import SUBSTITUTIONS
from tools.llama_build import download_sdist


def fetch_llama_cpp_vocab() -> Path:
    """Download the llama-cpp-python sdist from PyPI (pip caches it) and extract its vocab files."""
    version = llama_cpp_version()
    folder = cache_dir() / f"llama-cpp-vocab-{version}"
    if (folder / "ggml-vocab-phi-3.gguf").exists():
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        sdist = download_sdist(sys.executable, version, Path(tmp))
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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.offline_assets")
    parser.add_argument("action", choices=("fetch", "build"),
                        help="fetch: download inputs from PyPI; build: fetch, then build every offline asset")
    args = parser.parse_args()
    print(f"llama.cpp vocabularies: {fetch_llama_cpp_vocab()}", flush=True)
    if args.action == "build":
        for row in SUBSTITUTIONS:
            started = time.monotonic()
            path = build_offline(row)
            print(f"{row.book}: {path} ({time.monotonic() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
