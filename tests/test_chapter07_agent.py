"""Chapter 7 agent: the exact calculator, the local search, the ReAct prompt and the bounded executor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conversation_memory import PromptRecorder
from langchain_core.language_models.fake import FakeListLLM
from react_agent_tools import (
    LOCAL_SEARCH_LABEL,
    calculate,
    load_corpus,
    local_search,
    make_agent_executor,
    make_calculator_tool,
    make_search_tool,
    print_trace,
    web_search_available,
)

QUESTION = ("What is the current price of a MacBook Pro in USD? How much would it cost in EUR if the exchange "
            "rate is 0.85 EUR for 1 USD?")


@pytest.mark.parametrize("expression", ["2249 * 0.85", "2249*0.85", "$2,249 × 0.85", "`2249 * 0.85`",
                                        "2249 x 0.85 = ?"])
def test_calculator_computes_2249_times_085_exactly(expression):
    assert calculate(expression) == "1911.65"
    assert Decimal(calculate(expression)) == Decimal(2249) * Decimal("0.85")
    assert 2249 * 0.85 != 1911.65  # what float arithmetic (and numexpr) would give instead


@pytest.mark.parametrize("expression, expected", [("(1 + 2) * 3", "9"), ("7 / 2", "3.5"), ("2 ** 10", "1024"),
                                                  ("-3 + 1", "-2"), ("1 / 3", "0.3333333333333333333333333333")])
def test_calculator_arithmetic(expression, expected):
    assert calculate(expression) == expected


@pytest.mark.parametrize("expression", ["__import__('os').system('true')", "abc", "1 / 0", "9 ** 99999"])
def test_calculator_refuses_anything_else_with_a_message(expression):
    assert calculate(expression).startswith("無法計算")


def test_tool_runs_the_calculator():
    assert make_calculator_tool().run("2249 * 0.85") == "1911.65"


def test_local_search_finds_the_price_and_the_rate():
    assert len(load_corpus()) >= 5
    sources = [doc["source"] for doc in local_search(QUESTION)]
    assert sources[:2] == ["macbook_pro_price.md", "exchange_rate.md"]
    assert local_search("美元 歐元 匯率")[0]["source"] == "exchange_rate.md"
    assert local_search("weather in Paris") == []


def test_offline_search_tool_labels_its_results():
    tool = make_search_tool(online=False)
    assert tool.name == "web_search"
    result = tool.run("MacBook Pro price")
    assert result.startswith(LOCAL_SEARCH_LABEL) and "2,249" in result
    assert tool.run("weather in Paris").startswith(LOCAL_SEARCH_LABEL)


def test_search_probe_gives_up_fast_without_network():
    import time

    started = time.monotonic()
    assert web_search_available("host.invalid", timeout=1.0) is False
    assert time.monotonic() - started < 5


def tools():
    return [make_calculator_tool(), make_search_tool(online=False)]


def test_react_prompt_lists_the_tool_names_and_descriptions():
    recorder = PromptRecorder()
    llm = FakeListLLM(responses=["I now know the final answer\nFinal Answer: done"])
    make_agent_executor(llm, tools(), verbose=False).invoke({"input": QUESTION}, {"callbacks": [recorder]})
    prompt = recorder.prompts[0]
    assert "Action: one of [calculator, web_search]" in prompt
    assert "calculator" in prompt.split("Reply in")[0] and "web_search" in prompt.split("Reply in")[0]
    assert f"Question: {QUESTION}" in prompt


def test_agent_uses_both_tools_and_finishes(capsys):
    llm = FakeListLLM(responses=[
        "I should look the price up.\nAction: web_search\nAction Input: MacBook Pro price USD",
        "Now convert it.\nAction: calculator\nAction Input: 2249 * 0.85",
        "I now know the final answer\nFinal Answer: 2,249 USD is 1911.65 EUR.",
    ])
    recorder = PromptRecorder()
    result = make_agent_executor(llm, tools(), verbose=False).invoke({"input": QUESTION}, {"callbacks": [recorder]})
    steps = result["intermediate_steps"]
    assert [action.tool for action, _ in steps] == ["web_search", "calculator"]
    assert "2,249" in steps[0][1] and steps[1][1] == "1911.65"
    assert result["output"] == "2,249 USD is 1911.65 EUR."
    assert "Observation: 1911.65" in recorder.prompts[-1]  # the tool's answer went back to the model
    print_trace(result)
    assert "calculator" in capsys.readouterr().out


def test_agent_stops_within_its_iteration_bound_on_unparseable_replies():
    llm = FakeListLLM(responses=["I am a small model and I ramble."] * 20)
    result = make_agent_executor(llm, tools(), max_iterations=3, verbose=False).invoke({"input": QUESTION})
    assert len(result["intermediate_steps"]) == 3 and llm.i == 3
    assert "iteration limit" in result["output"]


def test_agent_handles_an_unknown_tool():
    llm = FakeListLLM(responses=["Action: wikipedia\nAction Input: MacBook", "Final Answer: ok"] * 3)
    result = make_agent_executor(llm, tools(), max_iterations=3, verbose=False).invoke({"input": QUESTION})
    assert "is not a valid tool" in result["intermediate_steps"][0][1]


def test_agent_llm_is_local_without_a_key(monkeypatch, capsys):
    from react_agent_tools import pick_agent_llm

    local = FakeListLLM(responses=["x"])
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert pick_agent_llm(local) is local
    assert "OPENAI_API_KEY" in capsys.readouterr().out


def test_agent_llm_falls_back_when_langchain_openai_is_missing(monkeypatch, capsys):
    import sys

    from react_agent_tools import pick_agent_llm

    local = FakeListLLM(responses=["x"])
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-real-key")
    monkeypatch.setitem(sys.modules, "langchain_openai", None)  # import fails
    assert pick_agent_llm(local) is local
    assert "langchain-openai" in capsys.readouterr().out
