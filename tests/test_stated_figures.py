"""Every duration and size a reader sees agrees with what was measured or published.

Read: README.md, tests/README.md, every chapter README, every notebook cell. Each figure such as
"約 22 秒", "1,680 MiB", "5–7 分鐘" or "7.5 GB" must equal, at the precision it is written with, a
quantity recorded in benchmarks/results/*.md (a number with its unit, or a table column whose header
names the unit) or a file size in the Hub contract (tools/rehearsal/hub_contract.toml). A size that is
computed rather than measured (parameters x bytes per weight) must say so on its line (估算/估計/算出)
and is checked against its arithmetic in ESTIMATES; a setting (a timeout) is read from where it is set;
the hardware a reader is told about (a 16 GB laptop, the T4's 15 GB) is in HARDWARE; the size of a file
this project builds is measured here.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tools.run_notebooks import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
HUB_CONTRACT = ROOT / "tools" / "rehearsal" / "hub_contract.toml"
NUMBER = r"\d[\d,]*(?:\.\d+)?"
# seconds per unit, or bytes per unit (MB/GB as readers and Hub pages use them: decimal or binary)
TIME = {"秒": 1, "s": 1, "分鐘": 60, "min": 60, "小時": 3600}
SIZE = {"KiB": (2**10,), "MiB": (2**20,), "GiB": (2**30,), "kB": (1e3, 2**10), "KB": (1e3, 2**10),
        "MB": (1e6, 2**20), "GB": (1e9, 2**30)}
STATED = re.compile(rf"({NUMBER})(?:\s*[–~-]\s*({NUMBER}))?\s*(秒|分鐘|小時|KiB|MiB|GiB|kB|KB|MB|GB)(?![A-Za-z])")
ESTIMATE_WORDS = ("估算", "估計", "算出")
B = 1e9
# Sizes computed from a model's parameter count and bytes per weight (the notebooks show the sums).
ESTIMATES = {
    "BLIP-2 OPT-2.7B, fp16 / bf16 (3.74 B x 2 bytes)": 3.74 * B * 2,
    "BLIP-2 OPT-2.7B, fp32 (3.74 B x 4 bytes)": 3.74 * B * 4,
    "Phi-3-mini, fp16 (3.82 B x 2 bytes)": 3.82 * B * 2,
    "SmolLM2-1.7B, bf16 (1.71 B x 2 bytes)": 1.71 * B * 2,
    "Llama-3.2-Taiwan-3B, bf16 (3.21 B x 2 bytes)": 3.21 * B * 2,
    "CLIP ViT-B/32, fp32 (0.15 B x 4 bytes)": 0.151 * B * 4,
    "three CLIPs (3 x 0.6 GB)": 3 * 0.6 * B,
    "BLIP-2 fp16 + three CLIPs": 7.5 * B + 1.8 * B,
    "BLIP-2 fp16 + three CLIPs + working memory (1 GB)": 7.5 * B + 1.8 * B + 1.0 * B,
}


# The machines a reader is told about: a laptop with 16 GB of memory; Colab's T4, which shows 15 GB.
HARDWARE = {"laptop memory": 16 * B, "T4 memory as Colab shows it": 15 * B}


def settings() -> list[float]:
    """Durations that are settings, read where they are set: nbmake's per-cell limit, the Hub probe."""
    from llmbook.profiles import HUB_PROBE_TIMEOUT_S

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return [float(re.search(r"--nbmake-timeout=(\d+)", pyproject).group(1)), HUB_PROBE_TIMEOUT_S]


def built_sizes() -> list[float]:
    """Sizes of files this project builds and names in a reader's text (the tiny Phi-3 GGUF)."""
    from llmbook.offline.phi3_gguf import build_tiny_phi3_gguf

    return [float(build_tiny_phi3_gguf().stat().st_size)]


def recorded() -> tuple[list[float], list[float]]:
    """(seconds, bytes): every quantity benchmarks/results and the Hub contract record."""
    seconds, sizes = [], []

    def add(value: str, unit: str) -> None:
        number = float(value.replace(",", ""))
        if unit in TIME:
            seconds.append(number * TIME[unit])
        elif unit in SIZE:
            sizes.extend(number * factor for factor in SIZE[unit])

    for path in sorted(RESULTS.glob("*.md")):
        header: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("|"):
                cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
                if set("".join(cells)) <= set("-: "):
                    continue
                if not header or len(cells) != len(header) or not any(re.search(r"\d", c) for c in cells):
                    header = cells
                    continue
                for title, cell in zip(header, cells):
                    unit = re.search(r"\((s|MiB|GiB|MB|GB|min)\)", title)
                    if unit:
                        for value in re.findall(NUMBER, cell):
                            add(value, unit.group(1))
            else:
                header = []
            for value, _, unit in re.findall(rf"({NUMBER})(\s*)(s|min|MiB|GiB|MB|GB|kB|分鐘)(?![A-Za-z])", line):
                add(value, "min" if unit == "分鐘" else unit)
    contract = HUB_CONTRACT.read_text(encoding="utf-8") if HUB_CONTRACT.exists() else ""
    sizes += [float(size) for size in re.findall(r"\bsize = (\d+)", contract) if size != "0"]
    for value, unit in re.findall(rf"size_shown = \"({NUMBER}) (kB|MB|GB)\"", contract):
        add(value, unit)
    return seconds + settings(), sizes + list(HARDWARE.values()) + built_sizes()


def reader_texts() -> list[tuple[str, str]]:
    texts = [(name, (ROOT / name).read_text(encoding="utf-8")) for name in ("README.md", "tests/README.md")]
    for chapter in CHAPTERS:
        texts.append((f"{chapter}/README.md", (ROOT / chapter / "README.md").read_text(encoding="utf-8")))
        for notebook in sorted((ROOT / chapter).glob("*.ipynb")):
            for cell in nbformat.read(notebook, as_version=4).cells:
                texts.append((f"{notebook.relative_to(ROOT)} {cell.get('id')}", cell.source))
    return texts


def stated_figures():
    """``(where, paragraph, match)`` for every figure; a paragraph (or table) is the context in which
    a figure says it is an estimate."""
    for where, text in reader_texts():
        for paragraph in re.split(r"\n\s*\n", text):
            for match in STATED.finditer(paragraph):
                yield where, paragraph.strip(), match


def agrees(stated: str, unit: str, quantities: list[float], scale: float) -> bool:
    """True when some quantity, in ``unit``, rounds to ``stated`` at the precision it is written with."""
    value = float(stated.replace(",", ""))
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    return any(abs(quantity / scale - value) <= 0.5 * 10**-decimals + 1e-9 for quantity in quantities)


def check(match: re.Match, line: str, seconds: list[float], sizes: list[float]) -> bool:
    low, high, unit = match.groups()
    estimated = any(word in line for word in ESTIMATE_WORDS)
    if unit in TIME:
        quantities, scales = seconds, (TIME[unit],)
    else:
        quantities, scales = sizes + (list(ESTIMATES.values()) if estimated else []), SIZE[unit]
    for scale in scales:
        if high:  # a range: a recorded quantity lies within it
            if any(float(low.replace(",", "")) - 0.5 <= q / scale <= float(high.replace(",", "")) + 0.5 for q in quantities):
                return True
        elif agrees(low, unit, quantities, scale):
            return True
    return False


def test_every_stated_duration_and_size_was_measured_or_published():
    seconds, sizes = recorded()
    unsupported = [f"{where}: {match.group(0)!r} in {line[max(0, match.start() - 80):match.end() + 20]!r}"
                   for where, line, match in stated_figures() if not check(match, line, seconds, sizes)]
    assert not unsupported, "not in benchmarks/results nor the Hub contract:\n" + "\n".join(unsupported)


def test_the_check_sees_the_figures_readers_see():
    figures = {match.group(0) for _, _, match in stated_figures()}
    assert {"22 秒", "1,680 MiB"} <= figures  # chapter 2's "整本…實測約 22 秒，記憶體高峰約 1,680 MiB"
    assert len(list(stated_figures())) >= 60


@pytest.mark.parametrize(("line", "ok"), [
    ("整本約 22 秒，記憶體高峰約 1,680 MiB", True),
    ("整本約 29 秒，記憶體高峰約 1,680 MiB", False),   # a planted wrong time (29 s is recorded nowhere)
    ("記憶體高峰約 1,700 MiB", False),                 # a planted wrong size
    ("約 7.5 GB", False),                               # an estimate that does not say so
    ("依參數量估算約 7.5 GB", True),
])
def test_the_check_fails_on_a_planted_figure(line, ok):
    seconds, sizes = recorded()
    assert all(check(match, line, seconds, sizes) for match in STATED.finditer(line)) is ok


def test_each_chapters_whole_notebook_figures_match_its_row():
    """The whole-notebook time and peak a chapter README states are its own row's, not another's."""
    rows = {}
    for line in (RESULTS / "notebooks-offline.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0].startswith("chapter") and cells[1] == "offline":
            rows[cells[0].split("/")[0]] = (cells[2], cells[3])
    for chapter in CHAPTERS:
        for line in (ROOT / chapter / "README.md").read_text(encoding="utf-8").splitlines():
            if "notebooks-offline.md" in line:
                seconds, mib = rows[chapter]
                assert f"約 {seconds} 秒" in line and f"{mib} MiB" in line, (chapter, line)
