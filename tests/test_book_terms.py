"""The prose uses the printed zh-TW edition's terms (BOOK_TERMS.md), not another translation of the same concept.

Readers hold the zh-TW book beside the notebook: when a cell says 代理人 and the page says 代理, they look for
a word that is not there. The check covers what a reader reads -- notebook markdown and code comments, the
chapter READMEs, README.md and GLOSSARY.md (except its column of common alternatives) -- and skips code:
identifiers, string literals, inline `code` and fenced code blocks.
"""

from __future__ import annotations

import io
import re
import shutil
import tokenize
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from notebook_code import python_source

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- substitutions:begin", "<!-- substitutions:end -->"


class Rule(NamedTuple):
    pattern: str  # a regular expression for the term to avoid
    book_term: str  # what the printed zh-TW edition writes
    reason: str


# One row per non-book alternative. Where a word also has an everyday meaning (提示 "hint", 表示 "to show"),
# the pattern only matches the uses that mean the book's concept.
RULES = [
    Rule(r"代理人", "代理", "agent：書中（圖 7-1）寫「代理」"),
    Rule(r"離群值", "異常值", "outlier：書中第 5 章寫「異常值」"),
    Rule(r"圖塊", "影像區塊／區塊", "patch（ViT）：書中寫「影像區塊」或「區塊」"),
    Rule(r"提示範本|提示模板", "提示詞模板", "prompt template：書中寫「提示詞模板」"),
    Rule(r"聊天範本", "聊天模板", "chat template：書中寫「聊天模板」"),
    Rule(r"(?<!提示)(?<!聊天)範本", "模板", "template：書中寫「模板」，不寫「範本」"),
    Rule(r"重新排序", "重新排名", "rerank：書中寫「重新排名」「重新排名器」"),
    Rule(r"元件", "組件", "component：書中寫「組件」"),
    Rule(r"表示模型|表示（模型）|表示法|表示（representation", "表達法／表達法（模型）",
         "representation：書中寫「表達法」，BERTopic 的方塊標成「表達法（模型）」"),
    Rule(r"(?:系統|使用者)提示(?!詞)", "系統提示詞／使用者提示詞", "prompt：書中寫「提示詞」「使用者提示詞」"),
    Rule(r"提示(?!詞)(?=（prompt)", "提示詞（prompt）", "prompt：書中寫「提示詞」"),
    Rule(r"(?<!小)提示(?![詞：:])", "提示詞",
         "prompt：書中寫「提示詞」；當「小提示」用時寫成「小提示」或「提示：」"),
    Rule(r"鏈(?![接結])", "鏈接", "chain：書中寫「鏈接」「單鏈接」；「鏈結」是超連結，不算"),
    Rule(r"圖片", "影像（一張具體的相片可寫照片）", "image：書中寫「影像」"),
]

CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"  # CJK punctuation, ideographs, full-width forms
TOKEN_RULE = Rule(r"(?i)(?<![A-Za-z0-9_])tokens?(?![A-Za-z0-9_])", "詞元",
                  "token：書中寫「詞元」；第一次出現寫「詞元（token）」，程式碼與 `token` 不算")


def without_code(markdown: str) -> str:
    """Markdown prose without fenced blocks, inline code, URLs and HTML tags (each replaced by a space)."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"https?://[^\s)>\]]+", " ", text)
    return re.sub(r"<[^<>\n]+>", " ", text)


def bare_tokens(line: str) -> list[str]:
    """The English word 'token' written next to Chinese, outside full-width parentheses: 下一個 token 的機率."""
    found = []
    for match in re.finditer(TOKEN_RULE.pattern, line):
        before, after = line[: match.start()].rstrip(), line[match.end():].lstrip()
        left, right = before[-1:], after[:1]
        if left == "（" and right == "）":  # 詞元（token）: the English name in parentheses
            continue
        if re.match(f"[{CJK}]", left) or re.match(f"[{CJK}]", right):
            found.append(match.group(0))
    return found


def term_hits(text: str) -> list[str]:
    """Every use of a non-book term in ``text``: 'line N: <term> → <book's term> (<reason>): <the line>'."""
    hits = []
    for number, line in enumerate(without_code(text).splitlines(), start=1):
        for rule in RULES:
            for match in re.finditer(rule.pattern, line):
                hits.append(f"line {number}: {match.group(0)} → {rule.book_term} ({rule.reason}): {line.strip()}")
        for word in bare_tokens(line):
            hits.append(f"line {number}: {word} → {TOKEN_RULE.book_term} ({TOKEN_RULE.reason}): {line.strip()}")
    return hits


def code_comments(source: str) -> str:
    """The comments of a code cell, one per line; strings and identifiers are code and stay out."""
    source = python_source(source)
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return "\n".join(tok.string.lstrip("#").strip() for tok in tokens if tok.type == tokenize.COMMENT)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return "\n".join(line.split("#", 1)[1] for line in source.splitlines() if "#" in line)


def notebook_prose(path: Path) -> list[tuple[str, str]]:
    """What a reader reads in a notebook, cell by cell: (cell id, markdown or the code cell's comments)."""
    nb = nbformat.read(path, as_version=4)
    return [(cell.get("id", str(index)), cell.source if cell.cell_type == "markdown" else code_comments(cell.source))
            for index, cell in enumerate(nb.cells) if cell.cell_type in ("markdown", "code")]


def notebook_hits(path: Path) -> list[str]:
    return [f"{cell_id} {hit}" for cell_id, text in notebook_prose(path) for hit in term_hits(text)]


def glossary_prose(text: str) -> str:
    """GLOSSARY.md without its third column (common alternatives are listed there on purpose)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = line.strip().strip("|").split("|")
            line = "|".join(cells[:2])
        lines.append(line)
    return "\n".join(lines)


def readme_parts(text: str) -> tuple[str, str]:
    """README.md as (its prose, the substitution table generated from llmbook/substitutions.py)."""
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + text[stop:], text[start:stop]


def hits_by_source() -> dict[str, list[str]]:
    """Every checked file (README.md split into its prose and its generated table) and its hits."""
    hits = {str(path.relative_to(ROOT)): notebook_hits(path) for path in sorted(ROOT.glob("chapter*/*.ipynb"))}
    for path in sorted(ROOT.glob("chapter*/README.md")):
        hits[str(path.relative_to(ROOT))] = term_hits(path.read_text(encoding="utf-8"))
    prose, table = readme_parts((ROOT / "README.md").read_text(encoding="utf-8"))
    hits["README.md"] = term_hits(prose)
    hits["README.md#substitutions (llmbook/substitutions.py)"] = term_hits(table)
    hits["GLOSSARY.md"] = term_hits(glossary_prose((ROOT / "GLOSSARY.md").read_text(encoding="utf-8")))
    return hits


HITS = hits_by_source()


@pytest.mark.parametrize("name", HITS)
def test_prose_uses_the_books_terms(name):
    assert HITS[name] == []


def test_checker_reports_terms_planted_in_a_notebook(tmp_path):
    source = ROOT / "chapter01" / "chapter01_introduction.ipynb"
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    assert notebook_hits(copy) == []  # chapter 1 itself is clean

    nb = nbformat.read(copy, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("- HDBSCAN 把不屬於任何群的文件標成離群值。", id="planted-md"))
    nb.cells.append(nbformat.v4.new_code_cell('# 讓代理人決定要用哪個工具\nlabel = "離群值"  # 字串是程式碼，不算',
                                              id="planted-code"))
    nbformat.write(nb, copy)
    hits = notebook_hits(copy)
    assert len(hits) == 2, hits
    assert any(hit.startswith("planted-md ") and "離群值 → 異常值" in hit for hit in hits)
    assert any(hit.startswith("planted-code ") and "代理人 → 代理" in hit for hit in hits)


@pytest.mark.parametrize(("text", "expected"), [
    ("最多生成 500 個 token。", ["token"]),
    ("（批次大小, token 數, 隱藏維度）", ["token"]),
    ("把文本切成詞元（token）。", []),
    ("`max_new_tokens=500`：最多 500 個詞元", []),
    ("`<image>` token 接在前面", ["token"]),
    ("Each token is a piece of text.", []),
])
def test_bare_token_next_to_chinese(text, expected):
    assert bare_tokens(without_code(text)) == expected


@pytest.mark.parametrize(("text", "flagged"), [
    ("把系統提示和使用者提示放進模板", True),
    ("系統提示詞與使用者提示詞", False),
    ("小提示：先執行上一格", False),
    ("多個提示詞組成的鏈接", False),
    ("多個提示組成的鏈", True),
    ("點這個鏈結下載", False),
    ("BERTopic 的表示模型", True),
    ("這一列表示總數", False),
    ("三張照片的影像嵌入", False),
])
def test_rules_flag_the_concept_not_the_everyday_word(text, flagged):
    assert bool(term_hits(text)) is flagged
