"""Chapter 7 agent tools: the exact calculator, the local search, the agent's LLM and its trace.

The ReAct prompt and the agent are the notebook's: ``test_chapter07_notebook_steps.py`` runs them.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from langchain_core.agents import AgentAction
from react_agent_tools import (
    LOCAL_SEARCH_LABEL,
    calculate,
    load_corpus,
    local_search,
    make_calculator_tool,
    make_search_tool,
    print_trace,
    web_search_available,
)

QUESTION = ("How much does a Nintendo Switch 2 cost in USD right now? What is that in TWD at an exchange rate "
            "of 32.5 TWD per 1 USD?")


@pytest.mark.parametrize("expression", ["449.99 * 32.5", "449.99*32.5", "$449.99 × 32.5", "`449.99 * 32.5`",
                                        "449.99 x 32.5 = ?", "449.99 USD * 32.5 TWD"])
def test_calculator_computes_44999_times_325_exactly(expression):
    assert calculate(expression) == "14624.675"
    assert Decimal(calculate(expression)) == Decimal("449.99") * Decimal("32.5")
    assert 449.99 * 32.5 != 14624.675  # what float arithmetic (and numexpr) would give instead


@pytest.mark.parametrize("expression, expected", [("NT$14,624.675 / 2", "7312.3375"), ("$1,000 * 32.5", "32500")])
def test_calculator_drops_currency_signs_and_thousands_separators(expression, expected):
    assert calculate(expression) == expected


@pytest.mark.parametrize("expression, expected", [("(1 + 2) * 3", "9"), ("7 / 2", "3.5"), ("2 ** 10", "1024"),
                                                  ("-3 + 1", "-2"), ("1 / 3", "0.3333333333333333333333333333")])
def test_calculator_arithmetic(expression, expected):
    assert calculate(expression) == expected


@pytest.mark.parametrize("expression", ["__import__('os').system('true')", "abc", "1 / 0", "9 ** 99999"])
def test_calculator_refuses_anything_else_with_a_message(expression):
    assert calculate(expression).startswith("無法計算")


def test_tool_runs_the_calculator():
    assert make_calculator_tool().run("449.99 * 32.5") == "14624.675"


def test_local_search_finds_the_price_and_the_rate():
    assert len(load_corpus()) >= 5
    sources = [doc["source"] for doc in local_search(QUESTION)]
    assert sorted(sources) == ["exchange_rate.md", "nintendo_switch_2_price.md"]  # one search returns both
    assert local_search("Nintendo Switch 2 price")[0]["source"] == "nintendo_switch_2_price.md"
    assert local_search("美元 新臺幣 匯率")[0]["source"] == "exchange_rate.md"
    assert local_search("weather in Paris") == []


def test_offline_search_tool_labels_its_results():
    tool = make_search_tool(online=False)
    assert tool.name == "web_search"
    result = tool.run("Nintendo Switch 2 price")
    assert result.startswith(LOCAL_SEARCH_LABEL) and "449.99" in result and "sample" in result.lower()
    assert tool.run("weather in Paris").startswith(LOCAL_SEARCH_LABEL)


def test_search_probe_gives_up_fast_without_network():
    import time

    started = time.monotonic()
    assert web_search_available("host.invalid", timeout=1.0) is False
    assert time.monotonic() - started < 5


def test_tools_are_named_and_described_in_english_like_the_react_prompt():
    tools = [make_calculator_tool(), make_search_tool(online=False)]
    assert [tool.name for tool in tools] == ["calculator", "web_search"]
    for tool in tools:
        assert tool.description.isascii() and tool.description.endswith(".")


def test_print_trace_lists_each_step(capsys):
    result = {"intermediate_steps": [(AgentAction("web_search", "Nintendo Switch 2 price", ""), "449.99 USD"),
                                     (AgentAction("calculator", "449.99 * 32.5", ""), "14624.675")],
              "output": "14624.675 TWD"}
    print_trace(result)
    lines = capsys.readouterr().out.splitlines()
    assert "第 1 步" in lines[0] and "web_search" in lines[0] and "449.99 USD" in lines[1]
    assert "第 2 步" in lines[2] and "calculator" in lines[2] and "14624.675" in lines[3]
    assert lines[-1] == "共 2 步；最後的回答：'14624.675 TWD'"


def test_openai_is_not_ready_without_a_key(monkeypatch, capsys):
    import react_agent_tools
    from react_agent_tools import openai_ready

    monkeypatch.setattr(react_agent_tools, "get_profile", lambda: "cpu")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert openai_ready() is False
    assert "OPENAI_API_KEY" in capsys.readouterr().out


def test_openai_is_not_ready_when_langchain_openai_is_missing(monkeypatch, capsys):
    import importlib.util

    import react_agent_tools
    from react_agent_tools import openai_ready

    monkeypatch.setattr(react_agent_tools, "get_profile", lambda: "cpu")
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-real-key")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "langchain_openai" else real_find_spec(name, *args))
    assert openai_ready() is False
    assert "langchain-openai" in capsys.readouterr().out


def test_offline_is_never_ready_for_openai_even_with_a_key_and_the_package(monkeypatch, capsys):
    import importlib.util

    from react_agent_tools import openai_ready

    monkeypatch.setenv("LLMBOOK_PROFILE", "offline")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: object())
    assert openai_ready() is False
    assert "offline" in capsys.readouterr().out


def test_openai_is_ready_with_a_key_and_the_package(monkeypatch, capsys):
    import importlib.util

    import react_agent_tools
    from react_agent_tools import openai_ready

    monkeypatch.setattr(react_agent_tools, "get_profile", lambda: "cpu")  # a profile that may call remote services
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-real-key")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: object())
    assert openai_ready() is True
    assert capsys.readouterr().out == ""


def test_offline_profile_searches_locally_without_probing_the_network(monkeypatch):
    import react_agent_tools

    def no_probe(*args, **kwargs):
        raise AssertionError("the offline profile must not probe the network")

    monkeypatch.setenv("LLMBOOK_PROFILE", "offline")
    monkeypatch.setattr(react_agent_tools, "web_search_available", no_probe)
    result = make_search_tool().run("Nintendo Switch 2 price")
    assert result.startswith(LOCAL_SEARCH_LABEL)


def test_a_failed_web_search_answers_from_the_local_collection(monkeypatch):
    from langchain_community.tools import DuckDuckGoSearchResults

    def rate_limited(self, *args, **kwargs):
        raise RuntimeError("202 Ratelimit")

    monkeypatch.setattr(DuckDuckGoSearchResults, "run", rate_limited)
    result = make_search_tool(online=True).run("Nintendo Switch 2 price")
    first, _, rest = result.partition("\n")
    assert "DuckDuckGo" in first and "Ratelimit" in first
    assert rest.startswith(LOCAL_SEARCH_LABEL) and "Nintendo Switch 2" in rest
