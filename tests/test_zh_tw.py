"""The prose is Traditional Chinese as written in Taiwan, with one term per concept."""

import re
from pathlib import Path

import nbformat
import pytest
from opencc import OpenCC

from llmbook.zh_tw import ALLOWED_VARIANTS, MAINLAND_TERMS  # shared with the notebooks' measurements

ROOT = Path(__file__).resolve().parents[1]


def prose_files():
    for path in sorted(ROOT.glob("chapter*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
        comments = "\n".join(line for cell in nb.cells if cell.cell_type == "code"
                             for line in cell.source.splitlines() if line.strip().startswith("#"))
        yield str(path.relative_to(ROOT)), text + "\n" + comments
    folders = [p for p in ROOT.glob("*/README.md") if not p.parent.name.startswith(".")]  # not tool caches
    for path in sorted([ROOT / "README.md", ROOT / "GLOSSARY.md", *folders]):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


PROSE = list(prose_files())
IDS = [name for name, _ in PROSE]


def test_allowed_variants_are_all_traditional_characters():
    # Big5 is Taiwan's Traditional character set: a Simplified-only character cannot be encoded in it.
    assert [a for a, _ in sorted(ALLOWED_VARIANTS) if not can_encode_big5(a)] == []
    assert not can_encode_big5("团") and not can_encode_big5("尽")


def can_encode_big5(character: str) -> bool:
    try:
        character.encode("big5")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(("name", "text"), PROSE, ids=IDS)
def test_no_simplified_characters(name, text):
    converted = OpenCC("s2tw").convert(text)
    assert len(converted) == len(text)
    changed = {(a, b) for a, b in zip(text, converted) if a != b}
    assert changed - ALLOWED_VARIANTS == set()


@pytest.mark.parametrize(("name", "text"), PROSE, ids=IDS)
def test_no_mainland_terms(name, text):
    assert [term for term in MAINLAND_TERMS if term in text] == []


def glossary_terms() -> dict[str, str]:
    rows = {}
    for line in (ROOT / "GLOSSARY.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        # Columns: English | the book's term | a common alternative or a note
        if len(cells) >= 2 and line.startswith("|") and not set(cells[0]) <= set("-: ") and cells[0] != "English":
            rows[cells[0].lower()] = cells[1]
    return rows


def test_glossary_lists_every_term_introduced_in_parentheses():
    known = glossary_terms()
    assert len(known) >= 20
    introduced = set()
    for _, text in PROSE:
        # 分詞器（tokenizer）: a Chinese term followed by its English name in full-width parentheses
        for term in re.findall(r"[\u4e00-\u9fff]（([A-Za-z][A-Za-z0-9 .\-]*)）", text):
            introduced.add(term.lower())
    assert sorted(introduced - set(known)) == []
