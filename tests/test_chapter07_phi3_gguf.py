"""Chapter 7 on the book's own model class: a tiny Phi-3 GGUF (real Phi-3 vocabulary) in llama.cpp.

Offline, the chapter's main model is SmolLM2; these tests run the Phi-3 path itself: the GGUF
written by ``llmbook.offline.phi3_gguf`` loads in llama.cpp, gives transformers' logits, carries
Phi-3's real chat template, and goes through LangChain's ``LlamaCpp`` with the book's template.
"""

from __future__ import annotations

import filecmp

import numpy as np
import pytest

llama_cpp = pytest.importorskip("llama_cpp")
torch = pytest.importorskip("torch")

from llmbook.offline.phi3 import VOCAB_GGUF, build_tiny_phi3
from llmbook.offline.phi3_gguf import (
    DEFAULT_VARIANT,
    VARIANTS,
    build_tiny_phi3_gguf,
    tiny_phi3_gguf_variants,
    write_phi3_gguf,
)
from llmbook.offline.sources import llama_cpp_vocab_dir

TEXT = "<|user|>\nHello! What is 1 + 1?<|end|>\n<|assistant|>\n"
# max |logit difference| against transformers in fp32; random weights give logits of size ~1
TOLERANCE = {"F32": 1e-3, "F16": 3e-3, "Q8_0": 5e-2, "Q4_0": 0.5}


@pytest.fixture(scope="module")
def variants():
    return tiny_phi3_gguf_variants()


@pytest.fixture(scope="module")
def reference_model():
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(build_tiny_phi3(), dtype=torch.float32).eval()


def load(path, **kwargs):
    return llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, verbose=False, **kwargs)


def test_table_builder_returns_the_f16_file(variants):
    assert DEFAULT_VARIANT == "F16"
    assert build_tiny_phi3_gguf() == variants["F16"] and variants["F16"].exists()


def test_variants_shrink_with_fewer_bits(variants):
    from gguf_quantization import gguf_report

    reports = {name: gguf_report(path) for name, path in variants.items()}
    sizes = [reports[name]["file size (MB)"] for name in VARIANTS]
    assert sizes == sorted(sizes, reverse=True)
    assert len({r["parameters"] for r in reports.values()}) == 1  # same weights, stored differently
    for name, expected in {"F32": 32, "F16": 16, "Q8_0": 8.5, "Q4_0": 4.5}.items():
        assert expected <= reports[name]["bits/weight"] < expected + 0.2  # norms stay F32
    assert set(reports["Q4_0"]["tensor types"]) == {"Q4_0", "F32"}


def test_gguf_carries_the_real_phi3_vocabulary_and_chat_template(variants):
    import gguf

    vocab = gguf.GGUFReader(llama_cpp_vocab_dir() / VOCAB_GGUF)
    model = gguf.GGUFReader(variants["F16"])
    assert model.fields["general.architecture"].contents() == "phi3"
    for key in ("tokenizer.chat_template", "tokenizer.ggml.tokens", "tokenizer.ggml.bos_token_id",
                "tokenizer.ggml.eos_token_id"):
        assert model.fields[key].contents() == vocab.fields[key].contents()
    names = {t.name for t in model.tensors}
    assert {"token_embd.weight", "output.weight", "blk.0.attn_qkv.weight", "blk.0.ffn_up.weight",
            "blk.1.attn_output.weight", "blk.1.ffn_down.weight", "output_norm.weight"} <= names


def test_writer_is_deterministic(variants, tmp_path):
    again = write_phi3_gguf(build_tiny_phi3(), tmp_path / "again.gguf", "F16")
    assert filecmp.cmp(again, variants["F16"], shallow=False)


def test_writer_rejects_unknown_variant(tmp_path):
    with pytest.raises(ValueError, match="variant"):
        write_phi3_gguf(build_tiny_phi3(), tmp_path / "x.gguf", "Q3_XYZ")


@pytest.mark.parametrize("variant", VARIANTS)
def test_llama_cpp_logits_match_transformers(variants, reference_model, variant):
    llm = load(variants[variant], logits_all=True)
    try:
        ids = llm.tokenize(TEXT.encode(), add_bos=True, special=True)
        assert ids[:2] == [1, 32010]  # <s> <|user|>: one BOS, special tokens recognised
        llm.eval(ids)
        got = np.array(llm.scores[: len(ids)])
    finally:
        llm.close()
    with torch.no_grad():
        expected = reference_model(torch.tensor([ids])).logits[0].numpy()
    assert got.shape == expected.shape == (len(ids), 32064)
    assert np.abs(got - expected).max() < TOLERANCE[variant]
    if variant in ("F32", "F16"):
        assert (got.argmax(-1) == expected.argmax(-1)).all()


def test_vocab_only_load_reads_the_phi3_chat_format(variants):
    from prompt_formats import chat_format

    llm = load(variants["F16"], vocab_only=True)
    try:
        assert chat_format(llm, strip_bos=False).rstrip("\n") == "<s><|user|>\n{input_prompt}<|end|>\n<|assistant|>"
        assert chat_format(llm) == "<|user|>\n{input_prompt}<|end|>\n<|assistant|>\n"
    finally:
        llm.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_langchain_llamacpp_runs_the_books_phi3_chain(variants):
    from conversation_memory import PromptRecorder
    from langchain_community.llms import LlamaCpp
    from prompt_formats import chat_prompt

    llm = LlamaCpp(model_path=str(variants["F16"]), n_gpu_layers=0, max_tokens=8, n_ctx=256, seed=42,
                   temperature=0, verbose=False)
    try:
        prompt = chat_prompt(llm, "{input_prompt}")
        recorder = PromptRecorder()
        answer = (prompt | llm).invoke({"input_prompt": "Hello, I'm Mei-Ling. What is 2 + 5?"},
                                       {"callbacks": [recorder]})
        again = (prompt | llm).invoke({"input_prompt": "Hello, I'm Mei-Ling. What is 2 + 5?"})
    finally:
        llm.client.close()
    assert recorder.prompts == ["<|user|>\nHello, I'm Mei-Ling. What is 2 + 5?<|end|>\n<|assistant|>\n"]
    assert isinstance(answer, str) and answer == again  # greedy: same (meaningless) text twice
