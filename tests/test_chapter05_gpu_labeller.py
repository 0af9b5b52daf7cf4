"""Chapter 5's topic names under the ``gpu`` profile: the notebook's own labelling cell (cell-063) runs its
``gpu`` branch -- BERTopic's ``TextGeneration`` on a transformers ``text-generation`` pipeline of Phi-3 --
on a tiny ``Phi3ForCausalLM`` with the real Phi-3 tokenizer (the book's class; random weights, so the
labels mean nothing), and must not touch llama.cpp. The book's id is what the cell asks ``pick_model`` for.
"""

from __future__ import annotations

import sys
from copy import deepcopy

import nbformat
import pytest
from notebook_code import ROOT, assigned_literals, python_source

NOTEBOOK = "chapter05/chapter05_text_clustering_topic_modeling.ipynb"
LLM_PROMPT = assigned_literals(NOTEBOOK, "prompt")[-1]


def labelling_cell() -> str:
    (cell,) = [c for c in nbformat.read(ROOT / NOTEBOOK, as_version=4).cells if c.get("id") == "cell-063"]
    return python_source(cell.source)


def test_the_cell_branches_visibly_on_the_profile():
    source = labelling_cell()
    assert 'elif profile == "gpu":' in source and "else:" in source
    gpu_branch = source.split('elif profile == "gpu":')[1].split("\nelse:")[0]
    assert 'pipeline("text-generation", model=pick_model("microsoft/Phi-3-mini-4k-instruct")' in gpu_branch
    assert 'dtype="auto"' in gpu_branch and "device=get_device()" in gpu_branch
    assert "TextGeneration(phi3, prompt=prompt" in gpu_branch
    assert "llama" not in gpu_branch.lower() and "hub_file" not in gpu_branch


@pytest.fixture(scope="module")
def fitted():
    """BERTopic on 100 BBC openings (20 per topic), real MiniLM embeddings, KMeans: five topics to name."""
    from bertopic import BERTopic
    from bertopic.dimensionality import BaseDimensionalityReduction
    from sentence_transformers import SentenceTransformer
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import CountVectorizer
    from topic_data import load_bbc_articles
    from topic_pipeline import enable_numba_cache

    from llmbook.offline.sources import minilm_path

    enable_numba_cache()  # bertopic imports umap (numba)
    docs = load_bbc_articles().groupby("Topic").head(20)["Abstracts"].tolist()
    embedding_model = SentenceTransformer(str(minilm_path()), device="cpu")
    vectorizer = CountVectorizer(stop_words="english")
    model = BERTopic(embedding_model=embedding_model, umap_model=BaseDimensionalityReduction(),
                     hdbscan_model=KMeans(n_clusters=5, random_state=0, n_init=10), vectorizer_model=vectorizer)
    model.fit(docs, embedding_model.encode(docs))
    return model, docs, vectorizer


def test_gpu_branch_names_topics_with_transformers_phi3(fitted, monkeypatch):
    from transformers import Phi3ForCausalLM, TextGenerationPipeline

    import llmbook
    from llmbook.offline.phi3 import build_tiny_phi3

    asked = []

    def pick_model(book_id):
        asked.append(book_id)
        return str(build_tiny_phi3())

    monkeypatch.setattr(llmbook, "pick_model", pick_model)
    monkeypatch.setattr(llmbook, "get_device", lambda: "cpu")
    monkeypatch.setattr(llmbook, "hub_file", lambda *a: pytest.fail("the gpu branch loads no GGUF file"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # any import of llama.cpp now fails
    namespace = {"profile": "gpu", "prompt": LLM_PROMPT}
    exec(compile(labelling_cell(), NOTEBOOK, "exec"), namespace)

    assert asked == ["microsoft/Phi-3-mini-4k-instruct"]
    assert namespace["labeller"] == "transformers"
    phi3 = namespace["phi3"]
    assert isinstance(phi3, TextGenerationPipeline) and isinstance(phi3.model, Phi3ForCausalLM)
    representation = namespace["representation_model"]
    assert type(representation).__name__ == "TextGeneration" and representation.prompt == LLM_PROMPT

    model, docs, vectorizer = deepcopy(fitted)
    original = deepcopy(model.topic_representations_)
    model.update_topics(docs, representation_model=representation, vectorizer_model=vectorizer)
    topics = model.get_topics()
    assert sorted(topics) == list(range(5))
    labels = [topics[topic][0][0] for topic in range(5)]
    assert all(isinstance(label, str) and label.strip() for label in labels)
    assert all(words[1:] == [("", 0)] * 9 for words in topics.values())  # one label, then blanks
    # every topic got the notebook's prompt: its keywords, at most 3 documents of at most 40 words each
    assert len(representation.prompts_) == 5
    for topic, filled in zip(range(5), representation.prompts_):
        assert filled.startswith(LLM_PROMPT.split("[DOCUMENTS]")[0]) and "[DOCUMENTS]" not in filled
        assert all(word in filled for word, _ in original[topic][:3])
        documents = [line for line in filled.splitlines() if line.startswith("- ")]
        assert 1 <= len(documents) <= 3 and all(len(line.split()) <= 41 for line in documents)
    # the label is what the pipeline generates after the prompt, greedily: the same text again
    again = [phi3(filled, **representation.pipeline_kwargs)[0]["generated_text"] for filled in representation.prompts_]
    assert again == labels
    # short, greedy labels, as on the llama.cpp path (16 tokens, temperature 0)
    assert representation.pipeline_kwargs == {"max_new_tokens": 16, "do_sample": False, "return_full_text": False}
