"""A tiny ``Phi3ForCausalLM`` on the REAL Phi-3 tokenizer, with Phi-3's chat template.

The weights are random, so its text is meaningless; what it proves is that the book's own class,
tokenizer and chat format still go through today's transformers (and llama.cpp, chapter 7).
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .sources import llama_cpp_vocab_dir

VERSION = 1
# The Phi-3 vocabulary comes from the llama-cpp-python sdist, read through gguf (cache key inputs).
LLAMA_VOCAB = ("llama-cpp-python", "gguf")
VOCAB_GGUF = "ggml-vocab-phi-3.gguf"

# The chat template of microsoft/Phi-3-mini-4k-instruct (its tokenizer_config.json since the July
# 2024 update): <|user|>\n…<|end|>\n<|assistant|>\n
PHI3_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}"
    "{% elif message['role'] == 'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}"
)


def phi3_tokenizer_folder() -> Path:
    """The real Phi-3 tokenizer converted from llama.cpp's vocab GGUF (10-17 s, done once)."""

    def convert(folder: Path) -> None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(llama_cpp_vocab_dir(), gguf_file=VOCAB_GGUF)
        tokenizer.chat_template = PHI3_CHAT_TEMPLATE
        tokenizer.save_pretrained(folder)

    return cached_build("phi3-tokenizer", VERSION, convert, reads=LLAMA_VOCAB)


def tiny_phi3_config(tokenizer):
    from transformers import Phi3Config

    return Phi3Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=4096,
        original_max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|end|>"),
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )


def write_tiny_phi3(folder: Path) -> None:
    """Write the tiny model and the real tokenizer into ``folder`` (seeded: same bytes every time)."""
    import torch
    from transformers import AutoTokenizer, Phi3ForCausalLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(phi3_tokenizer_folder())
    model = Phi3ForCausalLM(tiny_phi3_config(tokenizer))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def build_tiny_phi3() -> Path:
    return cached_build("tiny-phi3", VERSION, write_tiny_phi3, reads=LLAMA_VOCAB)
