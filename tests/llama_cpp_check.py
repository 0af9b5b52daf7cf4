"""Does this llama.cpp build generate from quantized GGUFs, or does it crash? Asked in a subprocess.

A native llama.cpp build can crash the whole process on some CPUs (GCC 12's AMX kernels segfault
on every quantized model: tools/llama_build.py). Asked in a child process, such a crash fails one
test with llama.cpp's system information instead of killing the test run. ``conftest.py`` asks
once before any test that uses llama.cpp in-process.
"""

from __future__ import annotations

import functools
import importlib.abc
import subprocess
import sys
from pathlib import Path

GENERATE = """
import sys, llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, seed=0, verbose=False)
out = llm("The capital of France is", max_tokens=4, temperature=0.0)
print(out["usage"]["completion_tokens"], repr(out["choices"][0]["text"]))
"""
SYSTEM_INFO = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"


def quantized_ggufs() -> dict[str, Path]:
    """One GGUF per quantization type the chapters use: the real SmolLM2 (Q4_1), tiny Phi-3 (Q4_0, Q8_0)."""
    from llmbook.offline.phi3_gguf import tiny_phi3_gguf_variants
    from llmbook.offline.sources import smollm2_gguf

    variants = tiny_phi3_gguf_variants()
    return {"Q4_1": smollm2_gguf(), "Q4_0": variants["Q4_0"], "Q8_0": variants["Q8_0"]}


def system_info() -> str:
    result = subprocess.run([sys.executable, "-c", SYSTEM_INFO], capture_output=True, text=True, timeout=120)
    return (result.stdout + result.stderr).strip()


def generate_in_subprocess(gguf: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", GENERATE, str(gguf)], capture_output=True, text=True, timeout=timeout)


def failure_report(kind: str, gguf: Path, result: subprocess.CompletedProcess) -> str:
    how = f"was killed by signal {-result.returncode}" if result.returncode < 0 else f"exited with {result.returncode}"
    return (
        f"llama.cpp {how} while generating from a {kind} GGUF ({gguf.name}).\n"
        f"llama.cpp system info: {system_info()}\n"
        f"stderr (last lines): {result.stderr.strip()[-1500:]}\n"
        "A build with AMX_INT8 = 1 made by GCC 12 crashes like this on AMX CPUs: rebuild with "
        "`python3 book.py test` (tools/llama_build.py builds without AMX and without -march=native)."
    )


@functools.lru_cache(maxsize=1)
def first_crash() -> str | None:
    """None when every quantized GGUF generates; else the report of the first that does not."""
    for kind, gguf in quantized_ggufs().items():
        result = generate_in_subprocess(gguf)
        if result.returncode != 0:
            return failure_report(kind, gguf, result)
    return None


class LlamaCppGate(importlib.abc.MetaPathFinder):
    """conftest puts this first on ``sys.meta_path``: the first ``import llama_cpp`` of a test run -- by
    a test, a helper module or a notebook cell a test executes -- waits for ``first_crash()``, and a
    crashing build makes every such import an ImportError carrying the report, instead of killing
    the whole run."""

    report: str | None = None
    checked = False

    def find_spec(self, name, path=None, target=None):
        if name != "llama_cpp":
            return None
        if not self.checked:
            self.checked = True
            self.report = first_crash()
        if self.report:
            raise ImportError(self.report)
        return None  # the ordinary finders import it
