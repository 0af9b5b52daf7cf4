"""Estimated durations on Colab's free T4 for the llama.cpp parts of chapters 5 and 7.

    python benchmarks/t4_estimates.py            print the table
    python benchmarks/t4_estimates.py --write    also write benchmarks/results/t4-estimates.md

Nobody in this project has run these chapters on a T4, so these are estimates, computed here from
published hardware figures and stated assumptions; the notebooks quote only numbers from this
file's output. Generating one token reads every weight once, so decoding is bounded by memory
bandwidth; reading the prompt is bounded by arithmetic. Each bound is multiplied by an efficiency
that real llama.cpp runs fall short of it by (an assumption, named below).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "t4-estimates.md"

# Hardware (published figures).
T4_BANDWIDTH_GB_S = 320        # NVIDIA T4 datasheet: GDDR6, 320 GB/s
T4_FP16_TFLOPS = 65            # NVIDIA T4 datasheet: mixed-precision tensor cores
COLAB_CPU_BANDWIDTH_GB_S = 10  # assumption: what 2 vCPUs of a shared cloud host stream from memory
COLAB_CPU_GFLOPS = 80          # assumption: peak of 2 vCPUs (one core, AVX2 + FMA, about 2.5 GHz)

# Assumptions: the fraction of each bound that llama.cpp reaches.
DECODE_EFFICIENCY = 0.6
PREFILL_EFFICIENCY = {"T4": 0.25, "CPU": 0.5}

# The model: Phi-3-mini, 3.8 billion parameters; the two files of microsoft/Phi-3-mini-4k-instruct-gguf.
PARAMETERS = 3.8e9
FILES_GB = {"fp16": 7.6, "q4": 2.4}


@dataclass(frozen=True)
class Workload:
    name: str
    calls: int            # generations
    prompt_tokens: int    # per call
    output_tokens: int    # per call
    how: str


WORKLOADS = (
    Workload("第 5 章：替約 150 個主題命名", 150, 250, 16,
             "the book's arXiv run finds about 150 topics; our prompt holds 3 documents of 40 words plus keywords "
             "(about 250 tokens); max_tokens=16 (chapter05/topic_labelers.py)"),
    Workload("第 7 章：整本筆記本（約 20 次生成）", 20, 300, 500,
             "about 20 generations (chains, memory turns, agent steps); upper bound: every one runs to the book's "
             "max_tokens=500"),
)


def tokens_per_second(file_gb: float, on_gpu: bool) -> tuple[float, float]:
    """(prompt tokens/s, generated tokens/s) for one file on the T4 or on Colab's CPU."""
    bandwidth = T4_BANDWIDTH_GB_S if on_gpu else COLAB_CPU_BANDWIDTH_GB_S
    flops = (T4_FP16_TFLOPS * 1e12) if on_gpu else (COLAB_CPU_GFLOPS * 1e9)
    decode = bandwidth / file_gb * DECODE_EFFICIENCY
    prefill = flops * PREFILL_EFFICIENCY["T4" if on_gpu else "CPU"] / (2 * PARAMETERS)
    return prefill, decode


def minutes(workload: Workload, file_gb: float, on_gpu: bool) -> float:
    prefill, decode = tokens_per_second(file_gb, on_gpu)
    seconds = workload.calls * (workload.prompt_tokens / prefill + workload.output_tokens / decode)
    return seconds / 60


def rounded(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def table() -> str:
    lines = ["| 工作 | fp16，T4 | q4，T4 | fp16，只用 CPU | q4，只用 CPU |", "|---|---|---|---|---|"]
    for workload in WORKLOADS:
        cells = [f"約 {rounded(minutes(workload, FILES_GB[name], gpu))} 分鐘"
                 for gpu in (True, False) for name in ("fp16", "q4")]
        lines.append(f"| {workload.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report() -> str:
    rates = "\n".join(
        f"| {name} ({FILES_GB[name]} GB) | {where} | {prefill:,.0f} | {decode:.1f} |"
        for name in ("fp16", "q4") for where, gpu in (("T4", True), ("CPU", False))
        for prefill, decode in [tokens_per_second(FILES_GB[name], gpu)])
    inputs = "\n".join(f"- {w.name}: {w.calls} calls, {w.prompt_tokens} prompt tokens, {w.output_tokens} output tokens each; {w.how}."
                       for w in WORKLOADS)
    return f"""# Phi-3-mini with llama.cpp on Colab's T4: estimated, not measured

Made by `python benchmarks/t4_estimates.py --write`. No one has run these chapters on a T4 for this project;
every figure below is **estimated** from hardware figures and assumptions, and the notebooks quote only these.

## Inputs
- T4: {T4_BANDWIDTH_GB_S} GB/s memory bandwidth, {T4_FP16_TFLOPS} TFLOPS fp16 (NVIDIA's datasheet).
- Colab's 2 vCPUs (assumed): {COLAB_CPU_BANDWIDTH_GB_S} GB/s from memory, {COLAB_CPU_GFLOPS} GFLOPS.
- Phi-3-mini: {PARAMETERS / 1e9:.1f} billion parameters; files: fp16 {FILES_GB['fp16']} GB, q4 {FILES_GB['q4']} GB.
- Generating a token reads every weight once: tokens/s = bandwidth / file size x {DECODE_EFFICIENCY} (assumed efficiency).
- Reading the prompt costs 2 x parameters FLOPs per token, at {PREFILL_EFFICIENCY['T4']:.0%} of peak on the T4 and {PREFILL_EFFICIENCY['CPU']:.0%} on the CPU (assumed).
{inputs}

## Rates (tokens per second)
| file | where | prompt | generation |
|---|---|---|---|
{rates}

## Durations
{table()}

So with GPU offload both chapters finish in minutes on a T4; a CPU-only llama.cpp on Colab would take
hours with the fp16 file, and still about one to two hours with the q4 file, which is why `hub_file` loads the q4 file when
`llama_cpp.llama_supports_gpu_offload()` is False, and why chapter 5 suggests an OpenAI key there.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    text = report()
    print(text)
    if parser.parse_args().write:
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
