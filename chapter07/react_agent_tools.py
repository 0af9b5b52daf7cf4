"""Chapter 7 tools for the ReAct agent: an exact calculator, a web search that falls back to a
local document collection, and the agent itself (bounded, parsing errors handled).

The book's agent uses OpenAI and DuckDuckGo. Here the same agent runs with whatever LLM it is
given, and the search tool says plainly whether it searched the web or the local collection.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path

from llmbook.profiles import host_reachable

SEARCH_HOST = "duckduckgo.com"
SEARCH_PROBE_TIMEOUT_S = 3.0
CORPUS_DIR = Path(__file__).resolve().parent / "search_corpus"
LOCAL_SEARCH_LABEL = "［本機文件搜尋：沒有網路，結果來自本專案附的範例文件，不是網路上的即時資料］"

# ---------------------------------------------------------------------------------------------
# Calculator: Decimal arithmetic on a parsed expression (never eval), so 2249 * 0.85 == 1911.65.
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
    """Turn what a model tends to write ("$2,249 × 0.85", "`2249*0.85`") into a Python expression."""
    expression = text.strip().strip("`").strip()
    expression = expression.splitlines()[0] if expression else expression
    expression = re.sub(r"(?<=\d),(?=\d{3}\b)", "", expression)  # thousands separators
    for old, new in _REPLACEMENTS.items():
        expression = expression.replace(old, new)
    expression = re.sub(r"[$€£¥%=?？]|USD|EUR|NTD|TWD", "", expression)
    return expression.strip()


def _evaluate(node: ast.AST) -> Decimal:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        # repr keeps what was written ("0.85"), so Decimal does not inherit binary rounding.
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
    """The web-search tool: DuckDuckGo when ``online`` (probed when None), else the local collection.

    Both are named ``web_search`` so the agent's prompt is the same; the local one labels every result.
    """
    from langchain_core.tools import Tool

    online = web_search_available() if online is None else online
    if online:
        from langchain_community.tools import DuckDuckGoSearchResults

        ddg = DuckDuckGoSearchResults(max_results=3)
        return Tool(
            name="web_search",
            description="網路搜尋引擎（DuckDuckGo）。需要查詢時事、價格等最新資訊時使用；輸入是搜尋字串。",
            func=ddg.run,
        )
    return Tool(
        name="web_search",
        description="搜尋引擎（目前沒有網路：改為搜尋本專案附的範例文件）。需要查詢價格等資訊時使用；輸入是搜尋字串。",
        func=lambda query: format_results(query, local_search(query)),
    )


def make_calculator_tool():
    from langchain_core.tools import Tool

    return Tool(
        name="calculator",
        description="計算機：輸入一個算式（例如 2249 * 0.85），回傳精確的結果。只接受數字與 + - * / ** ( )。",
        func=calculate,
    )


# ---------------------------------------------------------------------------------------------
# The agent
# ---------------------------------------------------------------------------------------------

REACT_TEMPLATE = """Answer the question as well as you can. You may use these tools:

{tools}

Reply in exactly this format:

Question: the question you must answer
Thought: what to do next
Action: one of [{tool_names}]
Action Input: the input for the action
Observation: the result of the action
... (Thought/Action/Action Input/Observation may repeat)
Thought: I now know the final answer
Final Answer: the final answer to the question

Begin!

Question: {input}
Thought:{agent_scratchpad}"""


def pick_agent_llm(local_llm, openai_model: str = "gpt-4o-mini"):
    """OpenAI's chat model when ``OPENAI_API_KEY`` is set and ``langchain-openai`` is installed,
    else ``local_llm``; prints which one and why."""
    import os

    if not os.environ.get("OPENAI_API_KEY"):
        print("沒有設定 OPENAI_API_KEY：代理人改用本機模型（小模型常寫不出 ReAct 格式，請把重點放在流程）。")
        return local_llm
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        print("有 OPENAI_API_KEY，但沒有安裝 langchain-openai：代理人改用本機模型。")
        return local_llm
    print(f"使用 OpenAI 的 {openai_model}（書中用 gpt-3.5-turbo）。")
    return ChatOpenAI(model=openai_model, temperature=0)


def make_react_prompt(template: str = REACT_TEMPLATE):
    from langchain_core.prompts import PromptTemplate

    return PromptTemplate(template=template, input_variables=["tools", "tool_names", "input", "agent_scratchpad"])


def make_agent_executor(llm, tools, prompt=None, max_iterations: int = 4, verbose: bool = True):
    """create_react_agent + AgentExecutor, bounded and tolerant of replies it cannot parse."""
    from langchain_classic.agents import AgentExecutor, create_react_agent

    agent = create_react_agent(llm, tools, prompt or make_react_prompt())
    return AgentExecutor(
        agent=agent,
        tools=tools,
        verbose=verbose,
        max_iterations=max_iterations,
        handle_parsing_errors=True,
        return_intermediate_steps=True,
    )


def print_trace(result: dict) -> None:
    """Print each step the agent took: the action, its input and what the tool returned."""
    steps = result.get("intermediate_steps", [])
    for number, (action, observation) in enumerate(steps, start=1):
        print(f"第 {number} 步｜工具：{action.tool}｜輸入：{str(action.tool_input)[:80]!r}")
        print(f"        觀察：{str(observation)[:160]!r}")
    print(f"共 {len(steps)} 步；最後的回答：{result.get('output')!r}")
