"""Every T4 duration a notebook states comes from benchmarks/t4_estimates.py, marked as an estimate."""

import importlib.util
import math
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("t4_estimates", ROOT / "benchmarks" / "t4_estimates.py")
t4 = importlib.util.module_from_spec(spec)
sys.modules["t4_estimates"] = t4  # dataclasses look their module up
spec.loader.exec_module(t4)

DURATION = re.compile(r"\d+(?:\.\d+)?\s*(?:[–-]\s*\d+(?:\.\d+)?\s*)?(?:分鐘|小時)")


def t4_duration_lines():
    for path in sorted(ROOT.glob("chapter*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if DURATION.search(line) and ("T4" in line or "GPU" in line or "只用 CPU" in line):
                        yield path.parent.name, line


def test_the_results_file_is_what_the_script_computes():
    assert t4.RESULTS.read_text(encoding="utf-8") == t4.report()


def test_a_gpu_is_minutes_and_cpu_only_is_hours_for_both_chapters():
    for workload in t4.WORKLOADS:
        assert t4.minutes(workload, t4.FILES_GB["fp16"], on_gpu=True) < 10
        assert t4.minutes(workload, t4.FILES_GB["q4"], on_gpu=False) > 60


def test_every_stated_t4_duration_says_it_is_an_estimate():
    # Reader text names no maintainer file; it says the figure is estimated and how (the method is
    # benchmarks/results/t4-estimates.md, linked from the README's measurement section).
    lines = list(t4_duration_lines())
    assert any(chapter == "chapter07" for chapter, _ in lines)  # the check has something to check
    for chapter, line in lines:
        assert "估計" in line, (chapter, line)
        assert "不是實測" in line or "同一份估算" in line, (chapter, line)


def test_chapter7_quotes_the_computed_range():
    chapter7 = next(w for w in t4.WORKLOADS if w.name.startswith("第 7 章"))
    low = math.floor(t4.minutes(chapter7, t4.FILES_GB["q4"], True))
    high = math.ceil(t4.minutes(chapter7, t4.FILES_GB["fp16"], True))
    cpu_hours = t4.minutes(chapter7, t4.FILES_GB["q4"], False) / 60
    text = "\n".join(line for chapter, line in t4_duration_lines() if chapter == "chapter07")
    assert f"約 {low}–{high} 分鐘" in text
    assert f"{cpu_hours:.1f} 小時" in text


def test_chapter5_quotes_the_computed_cpu_figure():
    # Under gpu, chapter 5 names topics with transformers (no llama.cpp), so only the CPU-only
    # llama.cpp figure is stated.
    chapter5 = next(w for w in t4.WORKLOADS if w.name.startswith("第 5 章"))
    cpu_minutes = t4.minutes(chapter5, t4.FILES_GB["q4"], False)
    text = "\n".join(line for chapter, line in t4_duration_lines() if chapter == "chapter05")
    assert cpu_minutes > 120 and "2 小時以上" in text
