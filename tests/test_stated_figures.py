"""Every whole-notebook time and peak memory a chapter states is the one in benchmarks/results."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "notebooks-offline.md"


def measured() -> dict[str, tuple[int, str]]:
    rows = {}
    for line in RESULTS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0].startswith("chapter") and cells[1] == "offline":
            rows[cells[0].split("/")[0]] = (int(cells[2]), cells[3])
    return rows


def statements(chapter: Path):
    """Lines of the chapter's README and notebook prose that quote notebook_resources.py's results."""
    texts = [(chapter / "README.md").read_text(encoding="utf-8")]
    for notebook in chapter.glob("*.ipynb"):
        texts += [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "markdown"]
    for text in texts:
        for line in text.splitlines():
            if "notebook_resources.py" in line or "notebooks-offline.md" in line:
                yield line


@pytest.mark.parametrize("chapter", sorted(p for p in ROOT.glob("chapter*") if p.is_dir()), ids=lambda p: p.name)
def test_stated_notebook_time_and_memory_match_the_results(chapter):
    seconds, mib = measured()[chapter.name]
    for line in statements(chapter):
        for stated in re.findall(r"約 ?(\d+) ?秒", line):
            assert int(stated) == seconds, line
        for stated in re.findall(r"(\d{1,3}(?:,\d{3})+) MiB", line):
            assert stated == mib, line


def test_the_check_reads_the_chapters_that_quote_figures():
    quoting = {p.name for p in ROOT.glob("chapter*") if p.is_dir() and list(statements(p))}
    assert {"chapter01", "chapter02", "chapter05", "chapter09"} <= quoting
