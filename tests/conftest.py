"""Make every chapter's helper modules importable, and keep the tests offline."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for chapter in sorted(ROOT.glob("chapter*")):
    if chapter.is_dir():
        sys.path.insert(0, str(chapter))

# A stray download must fail at once, not after a minute of retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# UMAP compiles with numba on first use (~45 s); keep the compiled code between processes.
from llmbook.profiles import cache_dir  # noqa: E402

os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))
