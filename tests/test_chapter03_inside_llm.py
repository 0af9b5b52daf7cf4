"""Chapter 3's steps on the real SmolLM2 (offline profile) and on a tiny Phi-3 (the book's class).

The book's section 3.3 runs in the notebook's own cells (executed here on each model), so the test checks the
code the reader runs; the 補充 helpers come from chapter03/inside_llm.py.
"""

from pathlib import Path

import nbformat
import pytest
import torch
from inside_llm import (
    COMPONENTS,
    attention_summary,
    greedy_generate,
    parameter_counts,
    softmax_with_temperature,
    top_k_next_tokens,
)
from notebook_code import assigned_literals, python_source
from transformers import AutoModelForCausalLM, AutoTokenizer

from llmbook.offline.phi3 import build_tiny_phi3
from llmbook.offline.smollm2 import build_smollm2

NOTEBOOK = Path(__file__).resolve().parents[1] / "chapter03" / "chapter03_looking_inside_llms.ipynb"

# The notebook's own prompt for section 3.4 (its last top-level `prompt = "..."`).
APOLOGY = assigned_literals(NOTEBOOK, "prompt")[-1]


@pytest.fixture(scope="module", params=["smollm2", "tiny-phi3"])
def model_and_tokenizer(request):
    folder = build_smollm2() if request.param == "smollm2" else build_tiny_phi3()
    model = AutoModelForCausalLM.from_pretrained(folder)
    model.eval()
    return model, AutoTokenizer.from_pretrained(folder)


def encode(tokenizer, text):
    return tokenizer(text, return_tensors="pt").input_ids


def run_notebook_cells(namespace: dict, *markers: str) -> dict:
    """Execute, in notebook order, the code cells of chapter 3 that contain each marker (one cell per marker)."""
    cells = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    for marker in markers:
        matching = [source for source in cells if marker in source]
        assert len(matching) == 1, f"expected one cell containing {marker!r}, found {len(matching)}"
        exec(compile(python_source(matching[0]), f"{NOTEBOOK.name} [{marker}]", "exec"), namespace)
    return namespace


def test_notebook_section_3_3_shapes_and_argmax_is_the_first_greedy_token(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    ns = run_notebook_cells({"model": model, "tokenizer": tokenizer},
                            "model.lm_head(model_output[0])", "token_id = lm_head_output[0, -1].argmax(-1)")
    input_ids, hidden, logits = ns["input_ids"], ns["model_output"][0], ns["lm_head_output"]
    assert ns["prompt"] == "The capital of France is"
    assert hidden.shape == (1, input_ids.shape[1], model.config.hidden_size)
    assert logits.shape == (1, input_ids.shape[1], model.config.vocab_size)
    generated = greedy_generate(model, input_ids, max_new_tokens=1, use_cache=True)
    assert int(ns["token_id"]) == int(generated[0, -1])
    # model.model followed by model.lm_head is exactly the full forward pass.
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids).logits, logits)


def test_cached_and_uncached_greedy_generation_agree(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    input_ids = encode(tokenizer, APOLOGY)
    cached = greedy_generate(model, input_ids, max_new_tokens=12, use_cache=True)
    uncached = greedy_generate(model, input_ids, max_new_tokens=12, use_cache=False)
    assert cached.shape == (1, input_ids.shape[1] + 12)
    assert torch.equal(cached, uncached)


def test_parameter_counts_cover_every_parameter_once(model_and_tokenizer):
    model, _ = model_and_tokenizer
    counts = parameter_counts(model)
    assert tuple(counts) == COMPONENTS
    assert sum(counts.values()) == model.num_parameters()
    assert counts["attention"] > 0 and counts["mlp"] > 0 and counts["embeddings"] > 0
    if model.config.tie_word_embeddings:
        assert counts["lm_head"] == 0


def test_attention_summary_reads_the_config(model_and_tokenizer):
    model, _ = model_and_tokenizer
    summary = attention_summary(model.config)
    assert summary["attention_heads"] == summary["key_value_heads"] * summary["queries_per_kv_head"]
    assert summary["layers"] == len(model.model.layers)
    assert summary["context_length"] == model.config.max_position_embeddings


def test_offline_smollm2_predicts_paris():
    folder = build_smollm2()
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ns = run_notebook_cells({"model": model, "tokenizer": tokenizer}, "model.lm_head(model_output[0])")
    logits = ns["lm_head_output"].detach()
    assert tokenizer.decode(logits[0, -1].argmax()) == " Paris"
    assert top_k_next_tokens(logits[0, -1], tokenizer, k=3)[0][0] == " Paris"


def test_temperature_sharpens_and_flattens():
    logits = torch.tensor([3.0, 1.0, 0.5, -1.0])
    cold, warm, hot = (softmax_with_temperature(logits, t) for t in (0.5, 1.0, 2.0))
    for probabilities in (cold, warm, hot):
        torch.testing.assert_close(probabilities.sum(), torch.tensor(1.0))
        assert int(probabilities.argmax()) == 0
    assert cold[0] > warm[0] > hot[0]
    with pytest.raises(ValueError, match="temperature"):
        softmax_with_temperature(logits, 0)
