"""Chapter 3 補充「繁中實戰」: what 1,000 Traditional Chinese characters cost in the KV cache.

The configs are data, copied from each model's config.json on the Hugging Face Hub (the URL beside
each); tests/test_chapter03_zh_tw.py checks the SmolLM2-135M row against the real model that ships
offline. Tokens per character are measured in the notebook with each model's real tokenizer on
chapter 2's 21 繁中 paragraphs (chapter02/zh_tw_paragraphs.py).
"""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path

BYTES_PER_VALUE = {"bfloat16": 2, "float16": 2, "float32": 4}
MIB = 2**20

# name -> the config.json fields the KV cache depends on. "context" is the context length the model
# was trained for: max_position_embeddings, except where the model card states a shorter one.
MODEL_CONFIGS = {
    "Phi-3-mini-4k-instruct": {
        "tokenizer_id": "microsoft/Phi-3-mini-4k-instruct",
        "source": "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct/blob/main/config.json",
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32, "hidden_size": 3072,
        "max_position_embeddings": 4096, "context": 4096, "torch_dtype": "bfloat16",
    },
    "SmolLM2-1.7B-Instruct": {
        "tokenizer_id": "HuggingFaceTB/SmolLM2-135M-Instruct",  # SmolLM2's sizes share one tokenizer
        "source": "https://huggingface.co/HuggingFaceTB/SmolLM2-1.7B-Instruct/blob/main/config.json",
        "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 32, "hidden_size": 2048,
        "max_position_embeddings": 8192, "context": 8192, "torch_dtype": "bfloat16",
    },
    "SmolLM2-135M-Instruct": {
        "tokenizer_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "source": "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/blob/main/config.json",
        "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "hidden_size": 576,
        "max_position_embeddings": 8192, "context": 8192, "torch_dtype": "bfloat16",
    },
    "Qwen2-0.5B": {
        "tokenizer_id": "Qwen/Qwen2-0.5B",
        "source": "https://huggingface.co/Qwen/Qwen2-0.5B/blob/main/config.json",
        # config.json says 131072 positions; the model card (https://huggingface.co/Qwen/Qwen2-0.5B)
        # states a 32K context, which is what the model was trained on.
        "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "hidden_size": 896,
        "max_position_embeddings": 131072, "context": 32768, "torch_dtype": "bfloat16",
    },
}


def kv_bytes_per_token(config: dict) -> int:
    """2 (key and value) x layers x key/value heads x head size x bytes per value."""
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    return (2 * config["num_hidden_layers"] * config["num_key_value_heads"] * head_dim
            * BYTES_PER_VALUE[config["torch_dtype"]])


def tokens_per_character(tokenizer, texts) -> list[float]:
    """Tokens per character of each text (no special tokens: only what the text itself costs)."""
    return [len(tokenizer(text, add_special_tokens=False)["input_ids"]) / len(text) for text in texts]


def token_bill(config: dict, per_character: float) -> dict[str, float]:
    """KV cache MiB per 1,000 characters, and how many characters fill the context."""
    return {
        "每詞元 KV（KiB）": kv_bytes_per_token(config) / 1024,
        "每字詞元數": per_character,
        "每千字 KV（MiB）": 1000 * per_character * kv_bytes_per_token(config) / MIB,
        "上下文（詞元）": config["context"],
        "上下文裝得下的字數": config["context"] / per_character,
    }


def bill_table(per_character: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """One row per model of MODEL_CONFIGS, from the median tokens per character of its tokenizer."""
    return {name: token_bill(MODEL_CONFIGS[name], statistics.median(per_character[name])) for name in MODEL_CONFIGS}


def zh_tw_paragraphs() -> list[str]:
    """Chapter 2's 繁中 paragraphs, read from chapter02/zh_tw_paragraphs.py beside this folder."""
    path = Path(__file__).resolve().parents[1] / "chapter02" / "zh_tw_paragraphs.py"
    spec = importlib.util.spec_from_file_location("zh_tw_paragraphs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [paragraph["zh"] for paragraph in module.PARAGRAPHS]
