"""Chapter 7: why the notebook passes ``n_batch=512`` (and ``rope_freq_base=0``) to LangChain's LlamaCpp.

LangChain's ``LlamaCpp`` defaults to ``n_batch=8`` (llama.cpp's own default is 512): a long prompt --
a conversation buffer, a ReAct scratchpad -- is then evaluated 8 tokens at a time. It also always
passes ``rope_freq_base=10000``, which overrides the value stored in the GGUF (SmolLM2: 100000).

    LLMBOOK_PROFILE=offline python benchmarks/llamacpp_batch_ch07.py
"""

from __future__ import annotations

import time

import numpy as np
from llama_cpp import Llama

from llmbook import hub_file

PROMPT = "The quick brown fox jumps over the lazy dog. " * 40 + "The capital of France is"


def prompt_seconds(path: str, n_batch: int) -> tuple[int, float]:
    llm = Llama(model_path=path, n_ctx=1024, n_batch=n_batch, verbose=False)
    try:
        ids = llm.tokenize(PROMPT.encode())
        started = time.perf_counter()
        llm.eval(ids)
        return len(ids), time.perf_counter() - started
    finally:
        llm.close()


def last_logits(path: str, rope_freq_base: float) -> np.ndarray:
    llm = Llama(model_path=path, n_ctx=1024, n_batch=512, logits_all=True, verbose=False,
                rope_freq_base=rope_freq_base)
    try:
        ids = llm.tokenize(PROMPT.encode())
        llm.eval(ids)
        return np.array(llm.scores[len(ids) - 1])
    finally:
        llm.close()


def main() -> None:
    path = hub_file("microsoft/Phi-3-mini-4k-instruct-gguf", "Phi-3-mini-4k-instruct-fp16.gguf")
    print(f"model: {path}")
    for n_batch in (8, 512):
        n_tokens, seconds = prompt_seconds(path, n_batch)
        print(f"n_batch={n_batch:>3}: {n_tokens} prompt tokens in {seconds:.1f} s")
    difference = np.abs(last_logits(path, 0.0) - last_logits(path, 10000.0)).max()
    print(f"rope_freq_base 0 (from the file) vs 10000 (LangChain's default): max logit difference {difference:.3f}")


if __name__ == "__main__":
    main()
