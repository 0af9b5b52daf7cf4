"""The tiny Phi-3 of ``phi3.py`` written as a GGUF file, for llama.cpp (chapter 7).

``build_tiny_phi3()`` gives a transformers folder: a tiny ``Phi3ForCausalLM`` (random weights)
on the real Phi-3 tokenizer. Here its weights go into a GGUF with ``gguf.GGUFWriter``: the
``phi3`` architecture keys come from its ``config.json``, every ``tokenizer.*`` key (the real
32,064-token vocabulary, its scores and types, BOS/EOS and the chat template) is copied from
llama.cpp's own ``ggml-vocab-phi-3.gguf``, and the tensors get llama.cpp's names
(``qkv_proj`` -> ``attn_qkv``, ``gate_up_proj`` -> ``ffn_up``, ``o_proj`` -> ``attn_output`` …,
from gguf's own name map). llama.cpp's ``convert_hf_to_gguf.py`` refuses a model this small.

Variants (``F32``, ``F16``, ``Q8_0``, ``Q4_0``) are written the same way, quantised with gguf's
numpy reference code, so chapter 7 can show real file sizes and bits per weight.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import cached_build
from .phi3 import VOCAB_GGUF, build_tiny_phi3
from .sources import llama_cpp_vocab_dir

VERSION = 1
VARIANTS = ("F32", "F16", "Q8_0", "Q4_0")
DEFAULT_VARIANT = "F16"  # the book loads the fp16 file


def gguf_name(variant: str) -> str:
    return f"tiny-phi3-{variant.lower()}.gguf"


def _copy_field(writer, field) -> None:
    """Copy one key/value field of a GGUF (strings, numbers, bools, arrays) into ``writer``."""
    from gguf import GGUFValueType

    value_type = field.types[0]
    if value_type == GGUFValueType.ARRAY:
        writer.add_array(field.name, field.contents())
    else:
        writer.add_key_value(field.name, field.contents(), value_type)


def _tensor_type(name: str, array, variant: str):
    """What a tensor is stored as: norms stay F32 (as in llama.cpp's files), matrices follow ``variant``."""
    from gguf import GGMLQuantizationType

    if array.ndim < 2 or variant == "F32":
        return GGMLQuantizationType.F32
    if variant == "F16":
        return GGMLQuantizationType.F16
    return GGMLQuantizationType[variant]


def write_phi3_gguf(model_folder: Path, out_path: Path, variant: str = DEFAULT_VARIANT) -> Path:
    """Write the Phi-3 model in ``model_folder`` (config.json + model.safetensors) as a GGUF."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    config = json.loads((Path(model_folder) / "config.json").read_text())
    weights = load_file(str(Path(model_folder) / "model.safetensors"))
    vocab = gguf.GGUFReader(llama_cpp_vocab_dir() / VOCAB_GGUF)
    n_vocab = len(vocab.fields["tokenizer.ggml.tokens"].data)
    if config["vocab_size"] != n_vocab:
        raise ValueError(f"model vocab {config['vocab_size']} != vocab GGUF {n_vocab}")
    if config.get("rope_scaling"):
        raise ValueError("rope scaling (the 128k Phi-3) is not supported by this writer")

    arch = gguf.MODEL_ARCH.PHI3
    name_map = gguf.get_tensor_name_map(arch, config["num_hidden_layers"])
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    writer = gguf.GGUFWriter(str(out_path), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name("tiny-phi3 (random weights, real Phi-3 vocabulary)")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_rope_scaling_orig_ctx_len(config.get("original_max_position_embeddings")
                                         or config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_dimension_count(int(head_dim * config.get("partial_rotary_factor", 1.0)))
    writer.add_rope_freq_base(config.get("rope_theta") or config.get("rope_parameters", {}).get("rope_theta", 10000.0))
    file_types = {"F32": gguf.LlamaFileType.ALL_F32, "F16": gguf.LlamaFileType.MOSTLY_F16,
                  "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "Q4_0": gguf.LlamaFileType.MOSTLY_Q4_0}
    writer.add_file_type(file_types[variant])
    for field in vocab.fields.values():
        if field.name.startswith("tokenizer."):
            _copy_field(writer, field)

    if "lm_head.weight" not in weights:  # tied embeddings
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    for hf_name in sorted(weights):
        array = np.ascontiguousarray(weights[hf_name].astype(np.float32))
        new_name = name_map.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise ValueError(f"no GGUF name for tensor {hf_name!r}")
        qtype = _tensor_type(new_name, array, variant)
        if qtype == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(new_name, array)
        elif qtype == gguf.GGMLQuantizationType.F16:
            writer.add_tensor(new_name, array.astype(np.float16))
        else:
            writer.add_tensor(new_name, gguf.quants.quantize(array, qtype), raw_dtype=qtype)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(out_path)


def _write_all(folder: Path) -> None:
    model_folder = build_tiny_phi3()
    for variant in VARIANTS:
        write_phi3_gguf(model_folder, folder / gguf_name(variant), variant)


def tiny_phi3_gguf_folder() -> Path:
    """The folder with every variant (a few MB each), built once and cached."""
    return cached_build("tiny-phi3-gguf", VERSION, _write_all, reads=("llama-cpp-python",))


def build_tiny_phi3_gguf() -> Path:
    """The tiny Phi-3 as an F16 GGUF (the book loads Phi-3's fp16 GGUF): the table's builder."""
    return tiny_phi3_gguf_folder() / gguf_name(DEFAULT_VARIANT)


def tiny_phi3_gguf_variants() -> dict[str, Path]:
    folder = tiny_phi3_gguf_folder()
    return {variant: folder / gguf_name(variant) for variant in VARIANTS}
