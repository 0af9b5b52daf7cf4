"""Real tokenizers converted once from the vocab-only GGUFs in the llama-cpp-python sdist.

Shared by chapter 2 (the tokenizer gallery) and chapter 9 (BLIP-2's OPT-style GPT-2 BPE).
The Phi-3 tokenizer, which also needs its chat template, lives in ``phi3.py``.
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .sources import llama_cpp_vocab_dir

VERSION = 1
# The vocabularies come from the llama-cpp-python sdist, read through gguf (cache key inputs).
READS = ("llama-cpp-python", "gguf")

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
    return cached_build("gpt2-tokenizer", VERSION, lambda folder: _convert_gguf_vocab("gpt2", folder), reads=READS)


def starcoder2_tokenizer() -> Path:
    """The real StarCoder2 tokenizer (49,152 tokens), converted once from llama.cpp's vocab GGUF."""
    return cached_build("starcoder2-tokenizer", VERSION,
                        lambda folder: _convert_gguf_vocab("starcoder2", folder), reads=READS)


# ---- chapter 2's 「繁中實戰」 (補充): two tokenizers trained on much Chinese text -------------------
# llama.cpp's vocab GGUFs for Qwen2 (converted from Qwen1.5, whose BPE Qwen2 shares) and Llama 3.
# transformers' GGUF reader keeps their vocabularies, merges and split regexes (Qwen2 splits every
# digit, Llama 3 keeps up to three digits together) but not everything else their published
# tokenizer.json files hold; _as_published puts those pieces back, and a test checks both against
# llama.cpp's own test vectors.

CHINESE_GGUF_VOCABS = {"qwen2": "ggml-vocab-qwen2.gguf", "llama3": "ggml-vocab-llama-bpe.gguf"}
QWEN2_REGULAR_TOKENS = 151643  # then <|endoftext|>, <|im_start|>, <|im_end|>; the GGUF pads to 151,936
LLAMA3_TOKENS = 128256


def _as_published(name: str, folder: Path) -> None:
    import json

    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    converted = AutoTokenizer.from_pretrained(llama_cpp_vocab_dir(), gguf_file=CHINESE_GGUF_VOCABS[name])
    spec = json.loads(converted.backend_tokenizer.to_str())
    if name == "qwen2":
        # Qwen2 normalises to NFC first; the "[PAD151646]" … fillers exist only in the GGUF.
        size = QWEN2_REGULAR_TOKENS + 3
        spec["normalizer"] = {"type": "NFC"}
        specials = {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}
    else:
        # Llama 3 takes a whole pre-tokenized word from the vocabulary before any merge
        # ("ignore_merges": " Việt" is one token there, not " Vi" + "ệ" + "t"), and starts every
        # text with <|begin_of_text|>. The reader also appends an "<|endoftext|>" it does not have.
        size = LLAMA3_TOKENS
        spec["model"]["ignore_merges"] = True
        spec["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000],
                                                     "tokens": ["<|begin_of_text|>"]}},
        }
        specials = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}
    spec["model"]["vocab"] = {token: i for token, i in spec["model"]["vocab"].items() if i < size}
    spec["added_tokens"] = [token for token in spec["added_tokens"] if token["id"] < size]
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)), **specials)
    tokenizer.save_pretrained(folder)


def qwen2_tokenizer() -> Path:
    """The real Qwen2 tokenizer (151,646 tokens), converted once from llama.cpp's vocab GGUF."""
    return cached_build("qwen2-tokenizer", VERSION, lambda folder: _as_published("qwen2", folder), reads=READS)


def llama3_tokenizer() -> Path:
    """The real Llama 3 tokenizer (128,256 tokens), converted once from llama.cpp's vocab GGUF."""
    return cached_build("llama3-tokenizer", VERSION, lambda folder: _as_published("llama3", folder), reads=READS)
