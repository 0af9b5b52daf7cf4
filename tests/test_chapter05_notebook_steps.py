"""Chapter 5's book steps as the notebook writes them: the first BERTopic fit and the Flan-T5 generator.

The notebook's own cells run here (``notebook_code``): the fit cell with a recording stand-in for
``BERTopic`` (so no model is fitted), the Flan-T5 pipeline class on a tiny T5 of the book's class.
"""

from __future__ import annotations

import bertopic
import nbformat
import pytest
from notebook_code import ROOT, load_definitions, python_source
from sklearn.feature_extraction.text import CountVectorizer

from llmbook.offline.tiny_models import build_tiny_flan_t5

NOTEBOOK = "chapter05/chapter05_text_clustering_topic_modeling.ipynb"


def cell(cell_id: str) -> str:
    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    return python_source(next(c.source for c in nb.cells if c.get("id") == cell_id))


class RecordingBERTopic:
    """Stands in for BERTopic: records the constructor's keywords and what ``fit`` gets."""

    calls: list = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def fit(self, documents, embeddings=None):
        RecordingBERTopic.calls.append((self.kwargs, documents, embeddings))
        return self


@pytest.fixture
def first_fit(monkeypatch):
    monkeypatch.setattr(bertopic, "BERTopic", RecordingBERTopic)
    RecordingBERTopic.calls = []

    def run(profile):
        namespace = {"profile": profile, "embedding_model": "E", "umap_model": "U", "hdbscan_model": "H",
                     "abstracts": ["a", "b"], "embeddings": "V"}
        exec(compile(cell("cell-031"), NOTEBOOK, "exec"), namespace)
        return namespace, RecordingBERTopic.calls[-1]

    return run


def test_gpu_first_fit_is_the_books_call(first_fit):
    namespace, (kwargs, documents, embeddings) = first_fit("gpu")
    # exactly the book's arguments: no vectorizer_model, so BERTopic keeps its default (stop words stay)
    assert kwargs == {"embedding_model": "E", "umap_model": "U", "hdbscan_model": "H", "verbose": True}
    assert (documents, embeddings) == (["a", "b"], "V")
    assert namespace["vectorizer_model"] is None  # later update_topics calls then also use the default


@pytest.mark.parametrize("profile", ["cpu", "offline"])
def test_small_corpora_drop_english_stop_words(first_fit, profile):
    namespace, (kwargs, _, _) = first_fit(profile)
    vectorizer = kwargs.pop("vectorizer_model")
    assert isinstance(vectorizer, CountVectorizer) and vectorizer.stop_words == "english"
    assert vectorizer is namespace["vectorizer_model"]
    assert kwargs == {"embedding_model": "E", "umap_model": "U", "hdbscan_model": "H", "verbose": True}


def test_every_update_topics_passes_the_same_vectorizer():
    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    updates = [c for c in nb.cells if c.cell_type == "code" and "topic_model.update_topics(" in c.source]
    assert len(updates) >= 5
    assert all("vectorizer_model=vectorizer_model" in c.source for c in updates), [c.id for c in updates]


def test_flan_t5_pipeline_returns_what_textgeneration_reads():
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    Pipeline = load_definitions(NOTEBOOK, "Text2TextGenerationPipeline").Text2TextGenerationPipeline
    path = str(build_tiny_flan_t5())
    generator = Pipeline(model=AutoModelForSeq2SeqLM.from_pretrained(path),
                         tokenizer=AutoTokenizer.from_pretrained(path), device="cpu")
    out = generator("What is this topic about? " * 400, max_new_tokens=5, do_sample=False)  # longer than 512
    assert isinstance(out, list) and len(out) == 1 and set(out[0]) == {"generated_text"}
    assert isinstance(out[0]["generated_text"], str)
    assert generator("a topic", max_new_tokens=5, do_sample=False) == generator("a topic", max_new_tokens=5,
                                                                                  do_sample=False)


def test_flan_t5_cell_loads_the_books_model_id():
    source = cell("cell-061")
    assert 'pick_model("google/flan-t5-small")' in source
    assert 'TextGeneration(generator, prompt=prompt, doc_length=50, tokenizer="whitespace")' in source
    assert "topic_labelers" not in source
