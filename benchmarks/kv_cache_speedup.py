"""Chapter 3: how much faster greedy generation is with the KV cache, median of several runs.

    LLMBOOK_PROFILE=offline .venv/bin/python benchmarks/kv_cache_speedup.py [--repeats 5] [--new-tokens 100]

Uses the chapter's own helpers (chapter03/inside_llm.py) on the chapter's model under the current
profile, and for contrast on the tiny Phi-3 (2 layers, random weights), where there is little to
save. Appends a row per model to benchmarks/results/kv_cache.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "chapter03"), str(ROOT / "tests")]

import torch
from inside_llm import time_generation
from notebook_code import assigned_literals
from transformers import AutoModelForCausalLM, AutoTokenizer

from llmbook import get_profile, pick_model
from llmbook.offline.phi3 import build_tiny_phi3

# The notebook's own prompt for section 3.4 (its last top-level `prompt = "..."`), so the figures the
# notebook quotes are measured on what the reader runs.
PROMPT = assigned_literals("chapter03/chapter03_looking_inside_llms.ipynb", "prompt")[-1]


def speedup(folder: str, repeats: int, new_tokens: int) -> dict:
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    input_ids = tokenizer(PROMPT, return_tensors="pt").input_ids
    time_generation(model, input_ids, 5, use_cache=True, repeats=1)  # warm-up
    cached_s, cached = time_generation(model, input_ids, new_tokens, use_cache=True, repeats=repeats)
    uncached_s, uncached = time_generation(model, input_ids, new_tokens, use_cache=False, repeats=repeats)
    return {"prompt_tokens": input_ids.shape[1], "cached_s": cached_s, "uncached_s": uncached_s,
            "ratio": uncached_s / cached_s, "identical": torch.equal(cached, uncached),
            "layers": model.config.num_hidden_layers}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    profile = get_profile()
    models = {"microsoft/Phi-3-mini-4k-instruct → " + profile: pick_model("microsoft/Phi-3-mini-4k-instruct"),
              "tiny Phi3ForCausalLM (2 layers, random)": str(build_tiny_phi3())}
    out = ROOT / "benchmarks" / "results" / "kv_cache.md"
    if not out.exists():
        out.write_text("# KV-cache speed-up (chapter 3)\n\nWritten by `benchmarks/kv_cache_speedup.py`: greedy "
                       "generation, median of the runs, same prompt as the notebook.\n\n"
                       "| model | layers | prompt tokens | new tokens | runs | with cache (s) | without (s) | "
                       "speed-up | identical output | date | cores |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
    for name, folder in models.items():
        r = speedup(folder, args.repeats, args.new_tokens)
        row = (f"| {name} | {r['layers']} | {r['prompt_tokens']} | {args.new_tokens} | {args.repeats} | "
               f"{r['cached_s']:.2f} | {r['uncached_s']:.2f} | {r['ratio']:.2f}× | {r['identical']} | "
               f"{date.today()} | {os.cpu_count()} |")
        print(row, flush=True)
        with out.open("a", encoding="utf-8") as handle:
            handle.write(row + "\n")


if __name__ == "__main__":
    main()
