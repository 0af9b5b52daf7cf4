"""Chapter 5 pipeline helpers: cached embeddings, UMAP's compile cache, a check of the clusters.

Plain functions the notebook calls between the book's own cells:

* ``enable_numba_cache()``      -- keep UMAP's numba compilation between runs (call before ``import umap``);
* ``encode_with_cache(...)``    -- ``model.encode`` with the result stored on disk, keyed by model and texts;
* ``cluster_topic_agreement()`` -- adjusted Rand index against known topics, on the clustered documents.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from llmbook.profiles import cache_dir


def enable_numba_cache(folder: Path | None = None) -> Path:
    """Point ``NUMBA_CACHE_DIR`` at a persistent folder (unless already set); returns the folder.

    UMAP's first fit compiles its numba code; with the cache the next kernel reuses it.
    Must run before ``umap`` (and so numba) is imported.
    """
    if "NUMBA_CACHE_DIR" not in os.environ:
        os.environ["NUMBA_CACHE_DIR"] = str(folder or cache_dir() / "numba")
    path = Path(os.environ["NUMBA_CACHE_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def embedding_cache_key(model_id: str, texts: list[str], **encode_kwargs) -> str:
    """A hash of the model id, the encode options that change the vectors, and every text."""
    digest = hashlib.sha256()
    digest.update(str(model_id).encode())
    for key in sorted(k for k in encode_kwargs if k not in ("show_progress_bar", "batch_size")):
        digest.update(f"\x00{key}={encode_kwargs[key]!r}".encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    return digest.hexdigest()[:24]


def encode_with_cache(model, texts: list[str], model_id: str, folder: Path | None = None,
                      **encode_kwargs) -> np.ndarray:
    """``model.encode(texts, **encode_kwargs)``, read from / written to ``<cache>/embeddings``.

    The file name is a hash of ``model_id`` and the texts, so another model, another sample or an
    edited text gets a new file, and running the notebook again costs a file read.
    """
    texts = list(texts)
    folder = Path(folder or cache_dir() / "embeddings")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{embedding_cache_key(model_id, texts, **encode_kwargs)}.npy"
    if path.exists():
        embeddings = np.load(path)
        if embeddings.shape[0] == len(texts):
            print(f"從快取讀取嵌入向量（embeddings）：{path}")
            return embeddings
    embeddings = np.asarray(model.encode(texts, **encode_kwargs))
    partial = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(partial, embeddings)
    partial.replace(path)  # atomic: a half-written file never looks like a cache hit
    return embeddings


def cluster_topic_agreement(clusters, topics) -> dict:
    """How well clusters recover known topics: ARI on the clustered documents, and the outliers.

    ``clusters`` uses -1 for outliers (HDBSCAN, BERTopic). Returns ``ari`` (adjusted Rand index
    between clusters and topics, outliers left out), ``outlier_share`` and ``n_clusters``.
    """
    from sklearn.metrics import adjusted_rand_score

    clusters = np.asarray(clusters)
    topics = np.asarray(topics)
    if clusters.shape != topics.shape:
        raise ValueError(f"clusters {clusters.shape} and topics {topics.shape} differ in length")
    clustered = clusters != -1
    ari = adjusted_rand_score(topics[clustered], clusters[clustered]) if clustered.any() else 0.0
    return {"ari": float(ari), "outlier_share": float(1 - clustered.mean()),
            "n_clusters": int(len(set(clusters[clustered].tolist())))}
