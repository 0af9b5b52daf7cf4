"""Chapter 5: the notebook's representation models and prompts give one label list per topic.

The prompts and ``topic_differences`` are read from the notebook itself, so these tests check what the
reader runs. BERTopic is fitted on 200 BBC openings with KMeans (fast, and five topics for sure).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from notebook_code import assigned_literals, load_definitions
from topic_data import load_bbc_articles
from topic_labelers import (
    OPENAI_MODEL,
    OpenAIKeyError,
    Text2TextGenerationPipeline,
    check_openai_key,
    choose_labeller,
    local_llm_representation,
    text2text_pipeline,
)
from topic_pipeline import enable_numba_cache, encode_with_cache

from llmbook.offline.sources import minilm_path, smollm2_gguf
from llmbook.offline.tiny_models import _build_flan_t5, build_tiny_flan_t5

DOCS_PER_TOPIC = 40
NOTEBOOK = "chapter05/chapter05_text_clustering_topic_modeling.ipynb"


# The book's two prompts, in the notebook's wording: Flan-T5's, then the one for OpenAI / the local LLM.
FLAN_T5_PROMPT, LLM_PROMPT = assigned_literals(NOTEBOOK, "prompt")
topic_differences = load_definitions(NOTEBOOK, "topic_differences").topic_differences


def test_the_notebooks_prompts_keep_the_books_placeholders():
    for prompt in (FLAN_T5_PROMPT, LLM_PROMPT):
        assert prompt.count("[DOCUMENTS]") == 1 and prompt.count("[KEYWORDS]") == 1
    assert "'[KEYWORDS]'" in FLAN_T5_PROMPT  # quoted, as in the book
    assert FLAN_T5_PROMPT.index("[DOCUMENTS]") < FLAN_T5_PROMPT.index("[KEYWORDS]")
    # the book's OpenAI prompt asks for a label in a fixed format, which BERTopic's OpenAI model strips
    assert LLM_PROMPT.rstrip().endswith("topic: <short topic label>")


@pytest.fixture(scope="module")
def tiny_t5():
    return str(build_tiny_flan_t5())


@pytest.fixture(scope="module")
def fitted():
    """A BERTopic model on 200 BBC openings (40 per topic), real MiniLM, KMeans instead of UMAP+HDBSCAN."""
    enable_numba_cache()  # bertopic imports umap (numba)
    from bertopic import BERTopic
    from bertopic.dimensionality import BaseDimensionalityReduction
    from sentence_transformers import SentenceTransformer
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import CountVectorizer

    articles = load_bbc_articles().groupby("Topic").head(DOCS_PER_TOPIC).reset_index(drop=True)
    docs = articles["Abstracts"].tolist()
    embedding_model = SentenceTransformer(str(minilm_path()), device="cpu")
    embeddings = encode_with_cache(embedding_model, docs, str(minilm_path()))
    vectorizer = CountVectorizer(stop_words="english")
    model = BERTopic(embedding_model=embedding_model, umap_model=BaseDimensionalityReduction(),
                     hdbscan_model=KMeans(n_clusters=5, random_state=0, n_init=10), vectorizer_model=vectorizer)
    model.fit(docs, embeddings)
    return model, docs, vectorizer


def assert_one_label_list_per_topic(model, expected_topics):
    topics = model.get_topics()
    assert sorted(topics) == sorted(expected_topics)
    for words in topics.values():
        assert isinstance(words, list) and len(words) >= 1
        assert all(isinstance(word, str) and np.isscalar(score) for word, score in words)
        assert words[0][0].strip(), "the first label of every topic is not empty"


def test_kmeans_topics_follow_the_bbc_categories(fitted):
    from sklearn.metrics import adjusted_rand_score

    model, _, _ = fitted
    truth = np.repeat(np.arange(5), DOCS_PER_TOPIC)
    assert adjusted_rand_score(truth, model.topics_) > 0.6


def assert_topic_differences(table, model, original):
    """One row per topic 0-4, with the first five words before and after the update."""
    assert table["Topic"].tolist() == [0, 1, 2, 3, 4]
    for row in table.itertuples():
        assert row.Original == " | ".join(word for word, _ in original[row.Topic][:5])
        assert row.Updated == " | ".join(word for word, _ in model.get_topic(row.Topic)[:5])


@pytest.mark.parametrize("kind", ["keybert", "mmr", "flan-t5", "llama.cpp"])
def test_representation_models_give_one_label_list_per_topic(fitted, tiny_t5, kind):
    from copy import deepcopy

    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance, TextGeneration

    model, docs, vectorizer = fitted
    model = deepcopy(model)
    original = deepcopy(model.topic_representations_)
    if kind == "keybert":
        representation = KeyBERTInspired()
    elif kind == "mmr":
        representation = MaximalMarginalRelevance(diversity=0.5)
    elif kind == "flan-t5":
        representation = TextGeneration(text2text_pipeline(tiny_t5), prompt=FLAN_T5_PROMPT,
                                        doc_length=50, tokenizer="whitespace")
    else:
        representation = local_llm_representation(str(smollm2_gguf()), prompt=LLM_PROMPT, n_ctx=1024)
    model.update_topics(docs, representation_model=representation, vectorizer_model=vectorizer)
    assert_one_label_list_per_topic(model, list(range(5)))
    assert_topic_differences(topic_differences(model, original), model, original)
    if kind not in ("keybert", "mmr"):
        # every topic got the prompt with its documents and keywords filled in
        assert len(representation.prompts_) == 5
        assert not any("[DOCUMENTS]" in p or "[KEYWORDS]" in p for p in representation.prompts_)
        keywords = [word for word, _ in original[0][:3]]
        assert all(word in representation.prompts_[0] for word in keywords)
        expected_start = (FLAN_T5_PROMPT if kind == "flan-t5" else LLM_PROMPT).split("[DOCUMENTS]")[0]
        assert all(p.startswith(expected_start) for p in representation.prompts_)
    if kind in ("keybert", "mmr"):
        assert all(len(words) == 10 for words in model.get_topics().values())
        # the new words come from the same vocabulary as c-TF-IDF's
        vocabulary = set(vectorizer.get_feature_names_out())
        assert all(word in vocabulary for words in model.get_topics().values() for word, _ in words)
    else:
        # a generated label, then blanks: BERTopic keeps ten slots per topic
        labels = [words[0][0] for words in model.get_topics().values()]
        assert all(len(label) < 200 for label in labels)
        assert all(words[1:] == [("", 0)] * 9 or kind == "flan-t5" for words in model.get_topics().values())


def test_flan_t5_pipeline_replaces_the_removed_task(tiny_t5):
    from transformers import Pipeline, pipeline

    with pytest.raises(KeyError, match="text2text-generation"):
        pipeline("text2text-generation", model=tiny_t5)
    generator = text2text_pipeline(tiny_t5)
    assert isinstance(generator, Pipeline) and isinstance(generator, Text2TextGenerationPipeline)
    out = generator("I have a topic about football, goal, match")
    assert len(out) == 1 and set(out[0]) == {"generated_text"}
    again = generator("I have a topic about football, goal, match")
    assert out[0]["generated_text"] and out == again  # greedy: the same text twice
    two = generator("keywords: tax, budget", max_new_tokens=3, num_beams=2, num_return_sequences=2)
    assert len(two) == 2


def test_tiny_flan_t5_is_the_books_class_with_t5_special_ids(tiny_t5):
    from transformers import AutoConfig, AutoTokenizer

    from llmbook.offline.tokenizer_builds import flan_t5_standin

    config = AutoConfig.from_pretrained(tiny_t5)
    assert config.architectures == ["T5ForConditionalGeneration"]
    assert config.feed_forward_proj == "gated-gelu"  # Flan-T5's feed-forward layer
    tokenizer = AutoTokenizer.from_pretrained(tiny_t5)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    assert tokenizer("football match")["input_ids"][-1] == 1
    # the same tokenizer as chapter 2's stand-in, so one table row can serve both chapters
    assert tokenizer.get_vocab() == AutoTokenizer.from_pretrained(flan_t5_standin()).get_vocab()


def test_tiny_flan_t5_builds_identically(tiny_t5, tmp_path):
    from pathlib import Path

    _build_flan_t5(tmp_path)
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        assert (tmp_path / name).read_bytes() == (Path(tiny_t5) / name).read_bytes(), name


def test_offline_never_chooses_openai_even_with_a_key(monkeypatch):
    monkeypatch.setenv("LLMBOOK_PROFILE", "offline")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted")
    assert choose_labeller() == "llama.cpp"


def test_openai_is_chosen_only_with_a_key(monkeypatch):
    from llmbook import profiles

    monkeypatch.setenv("LLMBOOK_PROFILE", "cpu")  # a profile that may call remote services
    monkeypatch.setattr(profiles, "hub_reachable", lambda *args, **kwargs: True)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert choose_labeller() == "llama.cpp"
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    assert choose_labeller() == "llama.cpp"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert choose_labeller() == "openai"
    assert OPENAI_MODEL and OPENAI_MODEL != "gpt-3.5-turbo"


class RefusingAPI(BaseHTTPRequestHandler):
    """Answers every request the way the OpenAI API answers a bad key."""

    def do_GET(self):
        body = json.dumps({"error": {"message": "Incorrect API key provided: sk-bad.", "type": "invalid_request_error",
                                     "code": "invalid_api_key"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


def test_a_refused_openai_key_fails_with_a_clear_message():
    openai = pytest.importorskip("openai")
    server = HTTPServer(("127.0.0.1", 0), RefusingAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = openai.OpenAI(api_key="sk-bad", base_url=f"http://127.0.0.1:{server.server_port}/v1", max_retries=0)
        with pytest.raises(OpenAIKeyError, match="OPENAI_API_KEY") as error:
            check_openai_key(client)
        assert "401" in str(error.value)
    finally:
        server.shutdown()


class AcceptingAPI(BaseHTTPRequestHandler):
    """A stand-in for the OpenAI API that accepts the key and answers "topic: Stand-in label" (the book's format)."""

    requests = []

    def _reply(self, payload):
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._reply({"object": "list", "data": [{"id": OPENAI_MODEL, "object": "model", "created": 0,
                                                  "owned_by": "test"}]})

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        AcceptingAPI.requests.append(request)
        self._reply({"id": "c", "object": "chat.completion", "created": 0, "model": request["model"],
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": "topic: Stand-in label"}}],
                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    def log_message(self, *args):
        pass


def test_openai_path_labels_every_topic(fitted):
    from copy import deepcopy

    openai = pytest.importorskip("openai")
    from bertopic.representation import OpenAI

    model, docs, vectorizer = fitted
    model = deepcopy(model)
    server = HTTPServer(("127.0.0.1", 0), AcceptingAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = openai.OpenAI(api_key="sk-good", base_url=f"http://127.0.0.1:{server.server_port}/v1",
                               max_retries=0)
        check_openai_key(client)
        # as in the notebook's OpenAI branch
        representation = OpenAI(client, model=OPENAI_MODEL, exponential_backoff=True, prompt=LLM_PROMPT)
        model.update_topics(docs, representation_model=representation, vectorizer_model=vectorizer)
    finally:
        server.shutdown()
    # BERTopic strips the "topic: " the prompt asks for
    assert [words[0][0] for words in model.get_topics().values()] == ["Stand-in label"] * 5
    assert len(AcceptingAPI.requests) == 5
    assert {request["model"] for request in AcceptingAPI.requests} == {OPENAI_MODEL}
    prompt = AcceptingAPI.requests[0]["messages"][-1]["content"]
    assert "[DOCUMENTS]" not in prompt and "[KEYWORDS]" not in prompt
    assert prompt.startswith(LLM_PROMPT.split("[DOCUMENTS]")[0]) and "topic: <short topic label>" in prompt
