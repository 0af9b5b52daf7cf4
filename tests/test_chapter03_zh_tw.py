"""Chapter 3 繁中實戰: the KV-cache bill is tied to the models' configs and to measured token counts."""

import json
import statistics
import sys
from pathlib import Path

import pytest
from transformers import AutoConfig, AutoTokenizer

from llmbook import pick_tokenizer
from llmbook.offline.smollm2 import build_smollm2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "chapter03"))

from kv_token_bill import (  # noqa: E402
    MIB, MODEL_CONFIGS, bill_table, kv_bytes_per_token, tokens_per_character, zh_tw_paragraphs)


@pytest.fixture(scope="module")
def per_character():
    texts = zh_tw_paragraphs()
    tokenizers = {tid: AutoTokenizer.from_pretrained(pick_tokenizer(tid, profile="offline"))
                  for tid in {config["tokenizer_id"] for config in MODEL_CONFIGS.values()}}
    return {name: tokens_per_character(tokenizers[config["tokenizer_id"]], texts) for name, config in MODEL_CONFIGS.items()}


def test_kv_bytes_per_token_follow_the_configs():
    # 2 x layers x KV heads x head size x 2 bytes (bfloat16)
    assert kv_bytes_per_token(MODEL_CONFIGS["Phi-3-mini-4k-instruct"]) == 2 * 32 * 32 * 96 * 2 == 384 * 1024
    assert kv_bytes_per_token(MODEL_CONFIGS["SmolLM2-1.7B-Instruct"]) == 2 * 24 * 32 * 64 * 2
    assert kv_bytes_per_token(MODEL_CONFIGS["SmolLM2-135M-Instruct"]) == 2 * 30 * 3 * 64 * 2
    assert kv_bytes_per_token(MODEL_CONFIGS["Qwen2-0.5B"]) == 2 * 24 * 2 * 64 * 2
    for config in MODEL_CONFIGS.values():
        assert config["source"].startswith("https://huggingface.co/") and config["source"].endswith("/config.json")
        assert config["context"] <= config["max_position_embeddings"]


def test_smollm2_135m_row_matches_the_real_model_config():
    config = AutoConfig.from_pretrained(build_smollm2())
    row = MODEL_CONFIGS["SmolLM2-135M-Instruct"]
    for key in ("num_hidden_layers", "num_attention_heads", "num_key_value_heads", "hidden_size",
                "max_position_embeddings"):
        assert getattr(config, key) == row[key], key


def test_the_text_set_is_chapter_twos_paragraphs():
    texts = zh_tw_paragraphs()
    assert len(texts) >= 20 and all(len(text) >= 40 for text in texts)


def test_measured_tokens_per_character(per_character):
    median = {name: statistics.median(values) for name, values in per_character.items()}
    # SmolLM2's sizes share one tokenizer; Qwen2's vocabulary holds many Chinese tokens, Phi-3's and SmolLM2's few.
    assert per_character["SmolLM2-1.7B-Instruct"] == per_character["SmolLM2-135M-Instruct"]
    assert median["Qwen2-0.5B"] < 1.0 < median["Phi-3-mini-4k-instruct"] < median["SmolLM2-135M-Instruct"]


def test_bill_table_is_the_product_of_config_and_tokens(per_character):
    table = bill_table(per_character)
    for name, row in table.items():
        tpc = statistics.median(per_character[name])
        assert row["每字詞元數"] == tpc
        assert row["每千字 KV（MiB）"] == pytest.approx(1000 * tpc * kv_bytes_per_token(MODEL_CONFIGS[name]) / MIB)
        assert row["上下文裝得下的字數"] * tpc == pytest.approx(MODEL_CONFIGS[name]["context"])
    assert min(table, key=lambda name: table[name]["每千字 KV（MiB）"]) == "Qwen2-0.5B"
    assert max(table, key=lambda name: table[name]["每千字 KV（MiB）"]) == "Phi-3-mini-4k-instruct"


def test_notebook_uses_this_bill():
    cells = json.loads((ROOT / "chapter03/chapter03_looking_inside_llms.ipynb").read_text(encoding="utf-8"))["cells"]
    source = "".join("".join(cell["source"]) for cell in cells if cell["id"] in ("cell-zh3b", "cell-zh3d"))
    assert "zh_tw_paragraphs()" in source and "bill_table(per_character)" in source
