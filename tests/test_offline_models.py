"""The offline factory: the real SmolLM2 and the tiny Phi-3 of the book's own class."""

from pathlib import Path

import pytest
import torch
from notebook_code import assigned_literals
from transformers import AutoModelForCausalLM, AutoTokenizer, Phi3ForCausalLM, pipeline

from llmbook.offline.phi3 import build_tiny_phi3, write_tiny_phi3
from llmbook.offline.smollm2 import build_smollm2
from llmbook.offline.sources import llama_cpp_test_vectors

CHAPTER1 = Path(__file__).resolve().parents[1] / "chapter01" / "chapter01_introduction.ipynb"


# The ``messages`` literal of chapter 1's notebook, so the test sends what the reader sends.
JOKE_REQUEST = assigned_literals(CHAPTER1, "messages")[0]


@pytest.fixture(scope="module")
def tiny_phi3():
    folder = build_tiny_phi3()
    return AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


def test_tiny_phi3_is_the_books_class(tiny_phi3):
    model, tokenizer = tiny_phi3
    assert isinstance(model, Phi3ForCausalLM)
    assert model.config.vocab_size == len(tokenizer) == 32064  # as in the real Phi-3-mini config


def test_tiny_phi3_chat_template_renders_phis_format(tiny_phi3):
    _, tokenizer = tiny_phi3
    text = tokenizer.apply_chat_template(JOKE_REQUEST, tokenize=False, add_generation_prompt=True)
    assert JOKE_REQUEST[0]["role"] == "user" and "chickens" in JOKE_REQUEST[0]["content"]
    assert text == f"<|user|>\n{JOKE_REQUEST[0]['content']}<|end|>\n<|assistant|>\n"
    ids = tokenizer.apply_chat_template(JOKE_REQUEST, add_generation_prompt=True, return_dict=True)["input_ids"]
    # The chat markers are single special tokens of the real vocabulary.
    for marker in ("<|user|>", "<|end|>", "<|assistant|>"):
        assert tokenizer.convert_tokens_to_ids(marker) in ids


def test_tiny_phi3_runs_the_chapter1_pipeline(tiny_phi3):
    model, tokenizer = tiny_phi3
    generator = pipeline("text-generation", model=model, tokenizer=tokenizer,
                         return_full_text=False, max_new_tokens=12, do_sample=False)
    output = generator(JOKE_REQUEST)
    assert isinstance(output[0]["generated_text"], str)
    again = generator(JOKE_REQUEST)
    assert again[0]["generated_text"] == output[0]["generated_text"]  # greedy: deterministic


def test_phi3_tokenizer_matches_llama_cpp_test_vectors(tiny_phi3):
    _, tokenizer = tiny_phi3
    cases = llama_cpp_test_vectors("ggml-vocab-phi-3.gguf")
    assert len(cases) > 40
    mismatches = [text for text, ids in cases if tokenizer.encode(text, add_special_tokens=False) != ids]
    assert mismatches == []


def test_two_builds_give_identical_weights(digests_of_two_builds):
    first, second = digests_of_two_builds(write_tiny_phi3, "model.safetensors")
    assert first == second


def test_offline_smollm2_knows_the_capital_of_france():
    folder = build_smollm2()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    inputs = tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=1, do_sample=False)
    assert tokenizer.decode(output[0, inputs["input_ids"].shape[1]:]) == " Paris"
