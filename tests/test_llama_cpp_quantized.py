"""llama.cpp generates from every quantized GGUF type the chapters load, without crashing.

Each generation runs in a child process (tests/llama_cpp_check.py): a crash fails this test with
llama.cpp's system information, and the rest of the run goes on.
"""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp")  # book.py test reports a missing llama-cpp-python on its own

from llama_cpp_check import failure_report, generate_in_subprocess, quantized_ggufs, system_info  # noqa: E402

GGUFS = quantized_ggufs()


@pytest.mark.parametrize("kind", sorted(GGUFS))
def test_quantized_gguf_generates_in_a_clean_subprocess(kind):
    gguf = GGUFS[kind]
    result = generate_in_subprocess(gguf)
    assert result.returncode == 0, failure_report(kind, gguf, result)
    count, _, text = result.stdout.strip().rpartition("\n")[-1].partition(" ")
    assert int(count) >= 1, result.stdout  # at least one token came out
    assert text.startswith("'") or text.startswith('"'), result.stdout


def test_the_build_has_no_amx_kernels():
    # tools/llama_build.py keeps llama.cpp's AMX kernels out (GCC 12 builds of them crash).
    info = system_info()
    assert "AVX2 = 1" in info or "NEON = 1" in info, info  # the fast SIMD paths are there
    assert "AMX_INT8 = 1" not in info, info


def test_a_crash_is_reported_with_the_system_info_not_raised(tmp_path):
    # What a segfaulting build looks like from the parent: a child killed by SIGSEGV.
    import signal
    import subprocess
    import sys

    crash = subprocess.run([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
                           capture_output=True, text=True)
    assert crash.returncode == -signal.SIGSEGV
    report = failure_report("Q4_1", tmp_path / "model.Q4_1.gguf", crash)
    assert f"killed by signal {signal.SIGSEGV}" in report and "model.Q4_1.gguf" in report
    assert "llama.cpp system info: " in report and "AVX" in report
