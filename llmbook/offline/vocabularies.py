"""Real tokenizers converted once from the vocab-only GGUFs in the llama-cpp-python sdist.

Shared by chapter 2 (the tokenizer gallery) and chapter 9 (BLIP-2's OPT-style GPT-2 BPE).
The Phi-3 tokenizer, which also needs its chat template, lives in ``phi3.py``.
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .sources import llama_cpp_vocab_dir

VERSION = 1

GGUF_VOCABS = {"gpt2": "ggml-vocab-gpt-2.gguf", "starcoder2": "ggml-vocab-starcoder.gguf"}


def _convert_gguf_vocab(name: str, folder: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(llama_cpp_vocab_dir(), gguf_file=GGUF_VOCABS[name])
    if name == "starcoder2":
        # StarCoder2 splits every digit on its own before the byte-level BPE (llama.cpp's
        # "starcoder" pre-tokenizer); transformers' GGUF reader leaves that step out.
        from tokenizers import Regex, pre_tokenizers
        from transformers import PreTrainedTokenizerFast

        backend = tokenizer.backend_tokenizer
        backend.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(r"\p{N}"), "isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
        # Saved as a plain tokenizers-backed tokenizer: transformers 5's GPT2Tokenizer class would
        # rebuild the pre-tokenizer on loading and drop the digit split.
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<|endoftext|>",
                                            eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    tokenizer.save_pretrained(folder)


def gpt2_tokenizer() -> Path:
    """The real GPT-2 tokenizer (50,257 tokens), converted once from llama.cpp's vocab GGUF."""
    return cached_build("gpt2-tokenizer", VERSION, lambda folder: _convert_gguf_vocab("gpt2", folder))


def starcoder2_tokenizer() -> Path:
    """The real StarCoder2 tokenizer (49,152 tokens), converted once from llama.cpp's vocab GGUF."""
    return cached_build("starcoder2-tokenizer", VERSION,
                        lambda folder: _convert_gguf_vocab("starcoder2", folder))
