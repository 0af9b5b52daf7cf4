"""Chapter 7 (補充): quantisation made concrete -- bits per weight, file sizes, rounding error.

Everything comes from the ``gguf`` package (llama.cpp's own Python library): its table of block
sizes per quantisation type, its reader for a GGUF file's tensors, and its numpy reference
quantisers.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

# Phi-3-mini-4k-instruct: 2 × 32,064 × 3,072 (embeddings, output) + 32 layers × 113,252,352 + 3,072.
PHI3_MINI_PARAMETERS = 3_821_079_552


def bits_per_weight(type_name: str) -> float:
    """Bits each weight costs in a GGUF type: F16 16, Q8_0 8.5, Q4_0 4.5, Q4_K 4.5 …"""
    import gguf

    block_size, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[type_name]]
    return type_size * 8 / block_size


def size_table(n_parameters: int = PHI3_MINI_PARAMETERS,
               types: tuple[str, ...] = ("F32", "F16", "Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q4_0", "Q2_K")) -> list[dict]:
    """Approximate file size of a model with ``n_parameters`` stored entirely as each type."""
    return [{"type": name, "bits/weight": round(bits_per_weight(name), 3),
             "GB": round(n_parameters * bits_per_weight(name) / 8 / 1e9, 2)} for name in types]


def gguf_report(path) -> dict:
    """What a GGUF file holds: parameters, tensor types, file size and average bits per weight."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    n_weights = sum(int(t.n_elements) for t in reader.tensors)
    n_bytes = sum(int(t.n_bytes) for t in reader.tensors)
    types = Counter(t.tensor_type.name for t in reader.tensors)
    return {
        "file": Path(path).name,
        "parameters": n_weights,
        "tensor types": dict(types.most_common()),
        "file size (MB)": round(Path(path).stat().st_size / 1e6, 1),
        "bits/weight": round(8 * n_bytes / max(n_weights, 1), 2),
    }


def quantize_roundtrip(values, type_name: str) -> dict:
    """Quantise a float32 array to ``type_name`` and back: bytes used and the rounding error."""
    import gguf
    import numpy as np

    values = np.ascontiguousarray(values, dtype=np.float32)
    qtype = gguf.GGMLQuantizationType[type_name]
    if type_name == "F32":
        packed, restored = values, values
    elif type_name == "F16":
        packed = values.astype(np.float16)
        restored = packed.astype(np.float32)
    else:
        packed = gguf.quants.quantize(values, qtype)
        restored = gguf.quants.dequantize(packed, qtype)
    error = np.abs(restored - values)
    return {"type": type_name, "bytes": int(packed.nbytes), "bits/weight": round(8 * packed.nbytes / values.size, 3),
            "max error": float(error.max()), "mean error": float(error.mean())}
