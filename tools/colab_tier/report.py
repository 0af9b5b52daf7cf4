"""The tier's report: one table row per chapter, the details behind each row, and the whole page
that ``--write-results`` writes to benchmarks/results/colab-tier.md."""

from __future__ import annotations

import os
import platform
from datetime import datetime
from pathlib import Path

from tools.colab_tier.drive import ChapterResult
from tools.colab_tier.environment import base_info
from tools.colab_tier.freeze import snapshot_commit

# Added packages the table names (the rest are only counted there; the details list them all).
IMPORTANT = {"torch", "torchvision", "transformers", "accelerate", "sentence-transformers", "huggingface-hub",
             "tokenizers", "safetensors", "numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "pillow",
             "pyarrow", "datasets", "langchain", "langchain-core", "requests", "certifi", "protobuf",
             "ipykernel", "ipython", "ipywidgets", "numba", "llvmlite", "umap-learn", "hdbscan", "openai",
             "llama-cpp-python", "bertopic", "fsspec", "jinja2", "packaging", "typing-extensions", "pydantic"}


def pin(name: str, version: str) -> str:
    """``name==1.0``, or ``name (file.whl)`` for a package pip freeze lists by its location."""
    if version.startswith("@"):
        return f"{name} ({version.split('#', 1)[0].rstrip('/').rsplit('/', 1)[-1]})"
    return f"{name}=={version}"


def short_changes(items: list[tuple[str, str, str]]) -> str:
    if not items:
        return "0"
    return f"{len(items)}: " + ", ".join(f"{name} {old}→{new}" for name, old, new in items)


def short_added(items: list[tuple[str, str]]) -> str:
    if not items:
        return "0"
    named = [name for name, _ in items if name in IMPORTANT]
    return f"{len(items)}" + (f" (incl. {', '.join(named)})" if named else "")


def table(results: list[ChapterResult]) -> str:
    lines = ["| chapter | set-up s | upgraded | downgraded | added | conflicts | restart needed | pass/fail "
             "| notebook s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        chapter = r.notebook.split("/", 1)[0]
        restart = ("yes (" + ", ".join(f"{d}: {'/'.join(m[:3])}" for d, m in r.restart.items()) + ")"
                   if r.restart else "no")
        if r.setup_error:
            verdict = f"fail (set-up: {r.setup_error})"
        elif r.passed:
            verdict = "pass"
        else:
            verdict = f"fail ({r.error})"
        lines.append(f"| {chapter} | {r.setup_seconds:.0f} | {short_changes(r.diff.upgraded)} | "
                     f"{short_changes(r.diff.downgraded)} | {short_added(r.diff.added)} | {len(r.conflicts)} | "
                     f"{restart} | {verdict.replace('|', '/')} | {r.notebook_seconds:.0f} |")
    return "\n".join(lines)


def details(results: list[ChapterResult]) -> str:
    parts = []
    for r in results:
        parts.append(f"### {r.notebook}\n")
        if r.diff.added:
            parts.append("- added: " + ", ".join(pin(n, v) for n, v in r.diff.added))
        if r.offline_extras:
            parts.append("- offline-only extras the tier installed after the set-up cell (--no-deps): "
                         + ", ".join(pin(n, v) for n, v in r.offline_extras))
        if r.colab_prompt or r.restart:
            parts.append("- Colab's own restart prompt (it reads pip's \"Successfully installed\" line): "
                         + (", ".join(sorted(r.colab_prompt)) if r.colab_prompt else "not shown"))
        if r.diff.removed:
            parts.append("- removed: " + ", ".join(pin(n, v) for n, v in r.diff.removed))
        for line in r.conflicts:
            parts.append(f"- conflict: {line}")
        if r.llama_cold and r.llama_timings and not r.llama_wheel_reused:  # the set-up cell ran a llama step
            parts.append("- llama-cpp-python: cold (--cold-llama: an empty wheel cache, as on a fresh runtime); "
                         "its download or build is part of this set-up time")
        if r.llama_timings:
            parts.append("- llama-cpp-python steps (tools/llama_build.py): " + "; ".join(r.llama_timings))
        if r.llama_wheel_reused:
            parts.append("- llama-cpp-python: the set-up step reused the wheel cached in ~/.cache/llmbook/wheels "
                         "(tagged py3-none, so a build made for another Python serves too); its build is not in this "
                         "set-up time (a fresh Colab runtime builds or downloads it)")
        if r.base_untouched is not None:
            parts.append(f"- base environment unchanged by this chapter's installs (inode/size/mtime of every file): "
                         f"{'yes' if r.base_untouched else 'NO'}")
        parts.append("")
    return "\n".join(parts)


def host_cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def markdown_report(results: list[ChapterResult], base: Path, total: float, snapshot_text: str,
                    built_now: bool = False) -> str:
    info = base_info(base)
    date = datetime.now().strftime("%Y-%m-%d")
    return "\n".join([
        "# Colab tier (`python -m tools.colab_tier`)",
        "",
        f"Measured {date} on {host_cpu()}, Linux; Python {info['python']} (Colab: 3.13.15 on Ubuntu 22.04).",
        f"Colab's packages: `tools/colab/pip-freeze.gpu.txt`, googlecolab/backend-info commit "
        f"{snapshot_commit(snapshot_text)} (2026-08-19); base environment of {len(info['packages'])} packages at "
        f"those versions, built in {info['seconds']} s (once; cached).",
        "Each chapter: a fresh hard-link copy of that environment; its set-up cell runs as written with PyPI reachable "
        "and no profile set; then the notebook runs on under the offline profile with only loopback reachable.",
        "\"restart needed\": a package the set-up cell upgraded or downgraded has a module that was already in "
        "`sys.modules` when the cell started (Colab's check, colabtools `google/colab/_pip.py`).",
        "",
        table(results),
        "",
        f"Total wall time of this run: {total:.0f} s "
        f"(the base environment was {'built in it' if built_now else 'reused'}; "
        f"building it took {info['seconds']} s).",
        "",
        "## Details",
        "",
        details(results),
        "## The base environment",
        "",
        *[f"- {note}" for note in info["notes"]],
        f"- `pip check` in the base environment: {'; '.join(info['pip_check']) or 'nothing to report'}",
        "",
    ])
