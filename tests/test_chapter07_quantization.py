"""Chapter 7 (補充) quantisation numbers: bits per weight, sizes, rounding error."""

from __future__ import annotations

import numpy as np
import pytest
from gguf_quantization import PHI3_MINI_PARAMETERS, bits_per_weight, quantize_roundtrip, size_table


@pytest.mark.parametrize("name, bits", [("F32", 32), ("F16", 16), ("Q8_0", 8.5), ("Q4_0", 4.5), ("Q4_K", 4.5),
                                        ("Q2_K", 2.625)])
def test_bits_per_weight(name, bits):
    assert bits_per_weight(name) == bits


def test_phi3_mini_sizes_match_the_published_files():
    table = {row["type"]: row["GB"] for row in size_table()}
    assert PHI3_MINI_PARAMETERS == 2 * 32064 * 3072 + 32 * 113_252_352 + 3072
    assert table["F16"] == pytest.approx(7.64, abs=0.01)  # the fp16 GGUF is 7.64 GB
    assert 2.0 < table["Q4_K"] < 2.4 < table["Q8_0"]


def test_fewer_bits_cost_fewer_bytes_and_more_error():
    weights = np.random.default_rng(0).normal(0, 0.02, size=(32, 256)).astype(np.float32)
    rows = [quantize_roundtrip(weights, name) for name in ("F32", "F16", "Q8_0", "Q4_0")]
    assert [r["bits/weight"] for r in rows] == [32, 16, 8.5, 4.5]
    assert [r["bytes"] for r in rows] == [32768, 16384, 8704, 4608]
    errors = [r["max error"] for r in rows]
    assert errors[0] == 0 and errors == sorted(errors)
    assert errors[-1] < 0.02 * 0.5  # 4 bits still keep each weight within half a standard deviation
