"""Chapter 2 helpers: word vectors and playlist data, from the Internet or from a local folder.

``pick_model`` gives a data set's name/URL in the ``gpu`` and ``cpu`` profiles and a local path in
``offline``; these functions accept either and return the same types, so the notebook's code is
the same in every profile.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.request import urlopen

import pandas as pd

DOWNLOAD_TIMEOUT_S = 120


def load_word_vectors(source: str):
    """``gensim`` ``KeyedVectors``: a saved ``.kv`` file, or a name for ``gensim.downloader``."""
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


def read_lines(url: str) -> list[str]:
    with urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        return response.read().decode("utf-8").split("\n")


def read_playlists(base_url: str) -> list[list[str]]:
    """The playlists of ``train.txt`` as lists of song ids (strings); the first two lines are
    comments, and playlists with a single song are dropped (word2vec needs a context)."""
    lines = read_lines(f"{base_url}/train.txt")[2:]
    return [line.split() for line in lines if len(line.split()) > 1]


def read_songs(base_url: str) -> pd.DataFrame:
    """``song_hash.txt`` (id, title, artist separated by tabs) as a table indexed by the id."""
    rows = [line.rstrip().split("\t") for line in read_lines(f"{base_url}/song_hash.txt") if line.strip()]
    return pd.DataFrame(rows, columns=["id", "title", "artist"]).set_index("id")


def read_genres(base_url: str) -> dict[str, str]:
    """Genre of every song of the synthetic (offline) set; the book's real data has no such file."""
    return dict(line.split("\t") for line in read_lines(f"{base_url}/genres.txt") if line.strip())


def similar_song_ids(model, song_id, topn: int = 5) -> list[str]:
    """Ids of the ``topn`` songs whose embeddings are closest to ``song_id``'s."""
    return [other for other, _ in model.wv.most_similar(positive=str(song_id), topn=topn)]
