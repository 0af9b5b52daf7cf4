"""Chapter 7 tools for the ReAct agent: an exact calculator and a web search that falls back to a
local document collection; plus the choice of the agent's LLM and a printout of its steps.

The book's agent uses OpenAI and DuckDuckGo. The notebook writes the ReAct prompt and builds the
agent itself; this module supplies the tools (named and described in English, like the prompt
they are listed in), and the search tool says plainly whether it searched the web or the local
collection.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

from llmbook.profiles import get_profile, host_reachable

SEARCH_HOST = "duckduckgo.com"
SEARCH_PROBE_TIMEOUT_S = 3.0
CORPUS_DIR = Path(__file__).resolve().parent / "search_corpus"
LOCAL_SEARCH_LABEL = "［本機文件搜尋：沒有網路，結果來自本專案附的範例文件，不是網路上的即時資料］"

# ---------------------------------------------------------------------------------------------
# Calculator: Decimal arithmetic on a parsed expression (never eval), so 449.99 * 32.5 == 14624.675.
# ---------------------------------------------------------------------------------------------

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_REPLACEMENTS = {"×": "*", "x": "*", "X": "*", "÷": "/", "^": "**", "−": "-", "，": ",", "（": "(", "）": ")"}


def normalize_expression(text: str) -> str:
    """Turn what a model tends to write ("$449.99 × 32.5", "`449.99*32.5`", "NT$14,624") into a Python expression."""
    expression = text.strip().strip("`").strip()
    expression = expression.splitlines()[0] if expression else expression
    expression = re.sub(r"(?<=\d),(?=\d{3}\b)", "", expression)  # thousands separators
    for old, new in _REPLACEMENTS.items():
        expression = expression.replace(old, new)
    expression = re.sub(r"NT\$|[$€£¥%=?？]|USD|EUR|NTD|TWD", "", expression)
    return expression.strip()


def _evaluate(node: ast.AST) -> Decimal:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        # repr keeps what was written ("32.5"), so Decimal does not inherit binary rounding.
        return Decimal(repr(node.value)) if isinstance(node.value, float) else Decimal(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"unsupported element: {ast.dump(node)[:60]}")


def calculate(expression: str) -> str:
    """Evaluate + - * / // % ** and parentheses exactly (Decimal, 28 digits); return the number."""
    text = normalize_expression(expression)
    try:
        with localcontext() as context:
            context.prec = 28
            value = _evaluate(ast.parse(text, mode="eval"))
    except (SyntaxError, ValueError, InvalidOperation, ZeroDivisionError, TypeError) as error:
        return f"無法計算 {expression!r}：只接受數字與 + - * / ** ( )。/ cannot evaluate ({error})"
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


# ---------------------------------------------------------------------------------------------
# Search: DuckDuckGo when the network answers, else a keyword search over search_corpus/*.md
# ---------------------------------------------------------------------------------------------


def web_search_available(host: str = SEARCH_HOST, timeout: float = SEARCH_PROBE_TIMEOUT_S) -> bool:
    """True when ``host`` accepts a TCP connection within ``timeout`` seconds."""
    return host_reachable(host, 443, timeout)


def load_corpus(folder: Path = CORPUS_DIR) -> list[dict]:
    """The local documents: [{"title", "text", "source"}], the title being each file's first line."""
    documents = []
    for path in sorted(Path(folder).glob("*.md")):
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        title = lines[0].lstrip("# ").strip()
        text = " ".join(line.strip() for line in lines[1:] if line.strip())
        documents.append({"title": title, "text": text, "source": path.name})
    return documents


STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "if", "in", "is", "it", "much", "of", "on", "or", "the", "this", "that", "to", "was", "what", "when", "which", "who", "will", "with", "would", "you"]
)


def search_terms(text: str) -> list[str]:
    """Lower-cased English/number words (no stop words) plus overlapping pairs of CJK characters."""
    text = text.lower()
    words = [word.strip(".-") for word in re.findall(r"[a-z0-9][a-z0-9.\-]*", text)]
    terms = [word for word in words if len(word) > 1 and word not in STOPWORDS]
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        terms += [run[i:i + 2] for i in range(len(run) - 1)] or [run]
    return terms


def local_search(query: str, documents: list[dict] | None = None, k: int = 2) -> list[dict]:
    """Rank documents by shared terms, weighted by rarity (a small TF-IDF); return the top ``k``."""
    documents = load_corpus() if documents is None else documents
    term_sets = [set(search_terms(doc["title"] + " " + doc["text"])) for doc in documents]
    scored = []
    for doc, terms in zip(documents, term_sets):
        score = 0.0
        for term in set(search_terms(query)):
            if term in terms:
                frequency = sum(term in other for other in term_sets)
                score += math.log(1 + len(documents) / frequency)
        if score > 0:
            scored.append((score, doc))
    scored.sort(key=lambda pair: -pair[0])
    return [doc for _, doc in scored[:k]]


def format_results(query: str, documents: list[dict]) -> str:
    if not documents:
        return f"{LOCAL_SEARCH_LABEL} 找不到和 {query!r} 相關的文件。"
    snippets = [f"[{doc['title']}]（{doc['source']}）{doc['text'][:300]}" for doc in documents]
    return LOCAL_SEARCH_LABEL + "\n" + "\n".join(snippets)


def make_search_tool(online: bool | None = None):
    """The web-search tool: DuckDuckGo when ``online``, else the local collection.

    ``online=None`` asks the network only outside the ``offline`` profile (which never probes).
    Both tools are named ``web_search`` so the agent's prompt is the same; the local one labels
    every result. A failed DuckDuckGo query (rate limits are common from cloud machines such as
    Colab) answers from the local collection, labelled, instead of stopping the agent.
    """
    from langchain_core.tools import Tool

    if online is None:
        online = get_profile() != "offline" and web_search_available()
    if online:
        from langchain_community.tools import DuckDuckGoSearchResults

        ddg = DuckDuckGoSearchResults(max_results=3)

        def search(query: str) -> str:
            try:
                return ddg.run(query)
            except Exception as error:  # noqa: BLE001 -- any search failure falls back, and says so
                reason = f"DuckDuckGo 搜尋失敗（{type(error).__name__}: {str(error)[:120]}），改查本機文件。"
                return reason + "\n" + format_results(query, local_search(query))

        return Tool(
            name="web_search",
            description="A web search engine (DuckDuckGo). Use it to look up current facts such as prices. "
                        "Input: a search query.",
            func=search,
        )
    return Tool(
        name="web_search",
        description="A search engine (offline: it searches a few sample documents shipped with this project). "
                    "Use it to look up facts such as prices. Input: a search query.",
        func=lambda query: format_results(query, local_search(query)),
    )


def make_calculator_tool():
    from langchain_core.tools import Tool

    return Tool(
        name="calculator",
        description="A calculator. Input: one arithmetic expression such as 449.99 * 32.5 "
                    "(numbers and + - * / ** ( ) only). Returns the exact result.",
        func=calculate,
    )


# ---------------------------------------------------------------------------------------------
# Whether OpenAI can be used, and a printout of the agent's steps (the notebook builds the agent)
# ---------------------------------------------------------------------------------------------

def openai_ready() -> bool:
    """True when ``OPENAI_API_KEY`` is set and ``langchain-openai`` is installed; otherwise prints
    why the agent falls back to the local model and returns False."""
    import importlib.util
    import os

    if get_profile() == "offline":
        print("離線設定檔（offline）不呼叫任何遠端服務：代理改用本機模型（小模型常寫不出 ReAct 格式，請把重點放在流程）。")
        return False
    if not os.environ.get("OPENAI_API_KEY"):
        print("沒有設定 OPENAI_API_KEY：代理改用本機模型（小模型常寫不出 ReAct 格式，請把重點放在流程）。")
        return False
    if importlib.util.find_spec("langchain_openai") is None:
        print("有 OPENAI_API_KEY，但沒有安裝 langchain-openai：代理改用本機模型。")
        return False
    return True


def print_trace(result: dict) -> None:
    """Print each step the agent took: the action, its input and what the tool returned."""
    steps = result.get("intermediate_steps", [])
    for number, (action, observation) in enumerate(steps, start=1):
        print(f"第 {number} 步｜工具：{action.tool}｜輸入：{str(action.tool_input)[:80]!r}")
        print(f"        觀察：{str(observation)[:160]!r}")
    print(f"共 {len(steps)} 步；最後的回答：{result.get('output')!r}")
