"""Chapter 5: the notebook's loading cell in each profile, the offline corpus, the embedding cache, the agreement score."""

import nbformat
import numpy as np
import pandas as pd
import pytest
import topic_data
from notebook_code import ROOT, python_source
from topic_data import first_words, load_bbc_articles
from topic_pipeline import (
    cluster_topic_agreement,
    embedding_cache_key,
    encode_with_cache,
)


@pytest.fixture(scope="module")
def bbc():
    return load_bbc_articles()


NOTEBOOK = "chapter05/chapter05_text_clustering_topic_modeling.ipynb"


def loading_cell() -> str:
    """The notebook's loading cell: the book's load_dataset, with the cpu sample and the offline corpus."""
    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    return python_source(next(cell.source for cell in nb.cells if cell.get("id") == "cell-005"))


def run_loading_cell(profile, monkeypatch):
    import llmbook.models

    monkeypatch.setattr(llmbook.models, "get_profile", lambda: profile)  # gpu without CUDA: the table only
    namespace = {"profile": profile}
    exec(compile(loading_cell(), NOTEBOOK, "exec"), namespace)
    return namespace


def test_offline_corpus_has_the_books_columns(bbc, monkeypatch):
    namespace = run_loading_cell("offline", monkeypatch)
    abstracts, titles = namespace["abstracts"], namespace["titles"]
    assert type(abstracts) is list and type(titles) is list  # what the book's dataset["Abstracts"] was
    # 2,225 files, of which 136 repeat an earlier article's text.
    assert len(abstracts) == len(titles) == len(bbc) == 2089
    assert min(map(len, abstracts)) > 50 and min(map(len, titles)) > 5
    assert pd.Series(abstracts).duplicated().sum() < 25  # 18 updated stories open with the same words
    assert abstracts == bbc["Abstracts"].tolist() and titles == bbc["Titles"].tolist()
    assert list(namespace["dataset"]["Topic"]) == bbc["Topic"].tolist()  # the labels the 補充 check reads


def test_bbc_topics_titles_and_the_latin1_file(bbc):
    assert bbc["Topic"].value_counts().to_dict() == {
        "business": 500, "sports": 492, "politics": 394, "entertainment": 366, "tech": 337}
    first = bbc.iloc[0]
    assert (first["Titles"], first["File"]) == ("Ad sales boost Time Warner profit", "business/001.txt")
    # Every text decoded: no replacement characters, and the pound sign survives.
    assert not bbc["Abstracts"].str.contains("\ufffd").any()
    assert bbc["Abstracts"].str.contains("£").sum() > 50


def test_offline_abstracts_are_the_opening_words(bbc):
    words = bbc["Abstracts"].str.split().str.len()
    assert words.max() <= topic_data.OFFLINE_ABSTRACT_WORDS + 1
    assert words.median() >= 40
    assert first_words("One two three. Four five six.", 4) == "One two three."
    assert first_words("a b c d e f", 4) == "a b c d …"
    assert first_words("short text", 10) == "short text"


@pytest.fixture
def fake_arxiv(monkeypatch):
    """``datasets.load_dataset`` answering with 5,000 numbered abstracts (no network)."""
    import datasets

    calls = []

    def fake_load_dataset(name):
        calls.append(name)
        rows = {"Titles": [f"title {i}" for i in range(5000)], "Abstracts": [f"abstract {i}" for i in range(5000)],
                "Years": [2000 + i % 20 for i in range(5000)]}
        return {"train": datasets.Dataset.from_dict(rows)}

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    return calls


def test_gpu_loads_the_whole_data_set_as_the_book_does(fake_arxiv, monkeypatch):
    namespace = run_loading_cell("gpu", monkeypatch)
    assert fake_arxiv == ["maartengr/arxiv_nlp"]  # the book's id, unchanged under gpu
    assert namespace["titles"] == [f"title {i}" for i in range(5000)]
    assert namespace["abstracts"] == [f"abstract {i}" for i in range(5000)]


def test_cpu_takes_a_seeded_sample_of_the_same_data_set(fake_arxiv, monkeypatch):
    first = run_loading_cell("cpu", monkeypatch)
    again = run_loading_cell("cpu", monkeypatch)
    assert fake_arxiv == ["maartengr/arxiv_nlp"] * 2
    assert len(first["abstracts"]) == first["CPU_SAMPLE_SIZE"] == topic_data.CPU_SAMPLE_SIZE == 3000
    assert first["titles"] == again["titles"] and first["titles"] != [f"title {i}" for i in range(3000)]
    # rows stay paired
    assert [t.split()[1] for t in first["titles"]] == [a.split()[1] for a in first["abstracts"]]


def test_agreement_scores_clusters_against_topics():
    topics = ["a"] * 4 + ["b"] * 4
    perfect = cluster_topic_agreement([1, 1, 1, 1, 0, 0, 0, 0], topics)
    assert perfect == {"ari": 1.0, "outlier_share": 0.0, "n_clusters": 2}
    with_outliers = cluster_topic_agreement([1, 1, -1, 1, 0, 0, -1, -1], topics)
    assert with_outliers["ari"] == 1.0 and with_outliers["outlier_share"] == pytest.approx(3 / 8)
    mixed = cluster_topic_agreement([0, 1, 0, 1, 0, 1, 0, 1], topics)
    assert mixed["ari"] < 0.1
    with pytest.raises(ValueError, match="differ in length"):
        cluster_topic_agreement([0, 1], topics)


class CountingModel:
    def __init__(self):
        self.calls = 0

    def encode(self, texts, **kwargs):
        self.calls += 1
        return np.array([[len(t), i] for i, t in enumerate(texts)], dtype=np.float32)


def test_embedding_cache_pays_once_per_model_and_text(tmp_path):
    model = CountingModel()
    texts = ["first text", "second"]
    first = encode_with_cache(model, texts, "model-a", folder=tmp_path, show_progress_bar=True)
    again = encode_with_cache(model, texts, "model-a", folder=tmp_path, show_progress_bar=False)
    assert model.calls == 1
    np.testing.assert_array_equal(first, again)
    encode_with_cache(model, texts, "model-b", folder=tmp_path)
    encode_with_cache(model, texts + ["third"], "model-a", folder=tmp_path)
    encode_with_cache(model, texts, "model-a", folder=tmp_path, normalize_embeddings=True)
    assert model.calls == 4
    assert len(list(tmp_path.glob("*.npy"))) == 4
    assert not list(tmp_path.glob("*.tmp*"))


def test_cache_key_depends_on_every_text_and_the_model():
    key = embedding_cache_key("m", ["a", "b"])
    assert key == embedding_cache_key("m", ["a", "b"], batch_size=8, show_progress_bar=True)
    assert key != embedding_cache_key("m", ["ab"])  # texts are separated, not concatenated
    assert key != embedding_cache_key("m", ["b", "a"])
    assert key != embedding_cache_key("n", ["a", "b"])


def test_topic_differences_lists_before_and_after():
    from notebook_code import load_definitions

    nb = load_definitions("chapter05/chapter05_text_clustering_topic_modeling.ipynb", "topic_differences")

    class Model:
        def get_topic(self, topic):
            return [(f"new{topic}-{i}", 1.0) for i in range(10)]

    original = {t: [(f"old{t}-{i}", 1.0) for i in range(10)] for t in range(-1, 7)}
    table = nb.topic_differences(Model(), original)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["Topic", "Original", "Updated"]
    assert table["Topic"].tolist() == [0, 1, 2, 3, 4]  # the first five topics, outliers (-1) left out
    assert table.loc[0, "Original"] == "old0-0 | old0-1 | old0-2 | old0-3 | old0-4"
    assert table.loc[2, "Updated"] == "new2-0 | new2-1 | new2-2 | new2-3 | new2-4"
    assert nb.topic_differences(Model(), original, nr_topics=2)["Topic"].tolist() == [0, 1]
    fewer = {t: words for t, words in original.items() if t < 3}
    assert nb.topic_differences(Model(), fewer)["Topic"].tolist() == [0, 1, 2]  # stops where the topics end
