"""Chapter 2 infrastructure: where the word vectors and the playlists come from in each profile.

``pick_model`` gives a data set's name or URL in the ``gpu`` and ``cpu`` profiles and a local path
in ``offline``. These two functions accept either, so the notebook's own code -- reading the
playlists with ``urllib`` and ``pandas`` as the book does -- is the same in every profile.
"""

from __future__ import annotations

import os
from pathlib import Path


def load_word_vectors(source: str):
    """``gensim`` ``KeyedVectors``: a saved ``.kv`` file (offline), or a name for ``gensim.downloader``."""
    from gensim.models import KeyedVectors

    if os.path.exists(source):
        return KeyedVectors.load(str(source))
    import gensim.downloader as api

    return api.load(source)  # downloads once into ~/gensim-data


def as_url(source: str) -> str:
    """An http(s) URL unchanged, or a local folder as a ``file://`` URL (no trailing slash)."""
    if "://" in source:
        return source.rstrip("/")
    return Path(source).resolve().as_uri()
