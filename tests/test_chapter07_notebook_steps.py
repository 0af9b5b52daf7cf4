"""Chapter 7's book steps as the notebook writes them, run on a fake LLM that records its prompts.

The notebook's own code cells (between two headings) run here with ``llm`` set to a
``FakeListLLM``: no model is loaded, but the templates, chains, memories and the ReAct agent are
exactly the reader's, so the tests check what each step sends to the model.
"""

from __future__ import annotations

import ast

import nbformat
import pytest
from conversation_memory import PromptRecorder
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.prompts import PromptTemplate
from notebook_code import ROOT, python_source

NOTEBOOK = ROOT / "chapter07" / "chapter07_langchain_llama_cpp.ipynb"
QUESTION = ("How much does a Nintendo Switch 2 cost in USD right now? What is that in TWD at an exchange rate "
            "of 32.5 TWD per 1 USD?")


def code_cells(start: str, stop: str) -> list[str]:
    """The code cells after the markdown cell with a line starting with ``start`` (a heading), up to
    the next markdown cell with a line starting with ``stop``."""
    nb = nbformat.read(NOTEBOOK, as_version=4)

    def has(cell, heading):
        return cell.cell_type == "markdown" and any(line.startswith(heading) for line in cell.source.splitlines())

    first = next(i for i, cell in enumerate(nb.cells) if has(cell, start))
    last = next(i for i, cell in enumerate(nb.cells) if i > first and has(cell, stop))
    return [python_source(cell.source) for cell in nb.cells[first:last] if cell.cell_type == "code"]


def run_cells(sources: list[str], namespace: dict) -> list:
    """Execute cells as the kernel would; return each cell's displayed value (its last expression)."""
    values = []
    for source in sources:
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, str(NOTEBOOK), "exec"), namespace)
        values.append(eval(compile(ast.Expression(last.value), str(NOTEBOOK), "eval"), namespace) if last else None)
    return values


def recording_llm(responses):
    recorder = PromptRecorder()
    return FakeListLLM(responses=responses, callbacks=[recorder]), recorder


def book_template_cells():
    """The section 單鏈接範例 up to its 補充: the hand-written Phi-3 template and the basic chain."""
    return code_cells("### 單鏈接範例", "### 補充")


def test_basic_chain_sends_the_books_phi3_prompt():
    llm, recorder = recording_llm(["Hi Mei-Ling, 2 + 5 = 7."])
    namespace = {"llm": llm}
    values = run_cells(book_template_cells(), namespace)
    # the same text Phi-3's own chat template renders (test_chapter07_chains checks that side)
    assert namespace["template"] == "<s><|user|>\n{input_prompt}<|end|>\n<|assistant|>"
    assert recorder.prompts == ["<s><|user|>\nHello, I'm Mei-Ling. What is 2 + 5?<|end|>\n<|assistant|>"]
    assert values[-1] == "Hi Mei-Ling, 2 + 5 = 7."


def test_story_chain_is_three_links_each_filling_its_own_key():
    llm, recorder = recording_llm(["basic", "The Gull at the Lamp", "Salt and Feathers", "Old Tomas keeps the light.", "Once…"])
    namespace = {"llm": llm}
    run_cells(book_template_cells(), namespace)
    values = run_cells(code_cells("### 多個提示詞組成的鏈接", "## 記憶功能"), namespace)
    summary = "an old lighthouse keeper who befriends a lost seagull"
    assert {"summary": summary, "title": "The Gull at the Lamp"} in values  # the first link alone
    assert values[-1] == {"summary": summary, "title": "Salt and Feathers", "character": "Old Tomas keeps the light.",
                          "story": "Once…"}
    title_prompt, character_prompt, story_prompt = recorder.prompts[-3:]
    for prompt in (title_prompt, character_prompt, story_prompt):  # the book's hand-written Phi-3 format
        assert prompt.startswith("<s><|user|>\n") and prompt.endswith("<|end|>\n<|assistant|>")
        assert summary in prompt
    assert "Salt and Feathers" in character_prompt and "Salt and Feathers" in story_prompt
    assert "Old Tomas keeps the light." in story_prompt and "Old Tomas keeps the light." not in character_prompt


@pytest.fixture(scope="module")
def memory_run():
    """The single-link section (book cells) and the memory section on a fake LLM whose i-th reply is "reply i"."""
    llm, recorder = recording_llm([f"reply {i}" for i in range(100)])
    namespace = {"llm": llm}
    run_cells(book_template_cells(), namespace)
    values = run_cells(code_cells("## 記憶功能", "## 代理"), namespace)
    return namespace, values, recorder.prompts


def numbered(prompts, head):
    """(i, prompt) for the prompts starting with ``head``; the fake LLM's reply to prompt i is "reply i"."""
    return [(i, prompt) for i, prompt in enumerate(prompts) if prompt.startswith(head)]


def conversation_prompts(namespace, prompts):
    return numbered(prompts, namespace["template"].split("{chat_history}")[0])


def test_without_memory_the_name_is_not_in_the_prompt(memory_run):
    _, _, prompts = memory_run
    assert prompts[1:3] == ["<s><|user|>\nHello, I'm Mei-Ling. What is 2 + 5?<|end|>\n<|assistant|>",
                            "<s><|user|>\nDo you remember my name?<|end|>\n<|assistant|>"]


def test_buffer_memory_puts_turn_one_into_turn_two(memory_run):
    namespace, _, prompts = memory_run
    (i, first), (_, second) = conversation_prompts(namespace, prompts)[:2]
    assert "Human:" not in first
    assert f"Human: Hello, I'm Mei-Ling. What is 2 + 5?\nAI: reply {i}" in second
    assert second.endswith("Do you remember my name?<|end|>\n<|assistant|>")


def test_window_of_two_drops_the_first_turn_on_the_fourth(memory_run):
    namespace, _, prompts = memory_run
    # the window's four turns come after the buffer's two
    window = [prompt for _, prompt in conversation_prompts(namespace, prompts)[2:6]]
    assert window[0].endswith("I'm 28 years old. What is 2 + 5?<|end|>\n<|assistant|>")
    assert "Mei-Ling" in window[2]  # "Do you remember my name?": turn one is still one of the last two
    assert window[3].endswith("How old am I?<|end|>\n<|assistant|>")
    assert "Mei-Ling" not in window[3] and "28 years" not in window[3]
    assert "Human: What is 4 + 6?" in window[3] and "Human: Do you remember my name?" in window[3]


def test_summary_memory_answers_the_first_question_from_the_summary_alone(memory_run):
    namespace, values, prompts = memory_run
    summaries = numbered(prompts, namespace["summary_prompt_template"].split("{summary}")[0])
    asked = [prompt for _, prompt in conversation_prompts(namespace, prompts)[6:]]
    assert len(summaries) == len(asked) == 3  # one summarising step after each of the three turns
    assert asked[2].endswith("Which question did I ask you first?<|end|>\n<|assistant|>")
    # the prompt carries the summary written after turn two, and no raw turn at all
    assert f"reply {summaries[1][0]}\n" in asked[2]
    assert "Mei-Ling" not in asked[2] and "Human:" not in asked[2]
    # each summarising step sees the previous summary and only the newest exchange
    assert f"reply {summaries[0][0]}\n" in summaries[1][1] and "Human: Do you remember my name?" in summaries[1][1]
    assert "I'm Mei-Ling" not in summaries[1][1]
    assert values[-1] == {"chat_history": f"reply {summaries[2][0]}"}  # memory.load_memory_variables({})


def test_memory_section_uses_the_books_classes():
    source = "\n".join(code_cells("## 記憶功能", "## 代理"))
    for name in ("ConversationBufferMemory(memory_key=\"chat_history\")",
                 "ConversationBufferWindowMemory(k=2, memory_key=\"chat_history\")",
                 "ConversationSummaryMemory(llm=llm, memory_key=\"chat_history\", prompt=summary_prompt)"):
        assert name in source
    assert source.count("LLMChain(prompt=prompt, llm=llm, memory=memory)") == 3
    assert "from langchain_classic.memory import" in source and "conversation_memory import PromptRecorder" in source
    assert "langgraph" not in source and "buffer_chat" not in source


def test_memories_hold_what_the_book_shows(memory_run):
    namespace, values, _ = memory_run
    buffer_memory = values[5]  # the 補充 cell after the buffer's two turns: memory.load_memory_variables({})
    history = buffer_memory["chat_history"]
    assert history.startswith("Human: Hello, I'm Mei-Ling. What is 2 + 5?\nAI: reply ")
    assert history.count("Human:") == 2 and "Human: Do you remember my name?" in history


def run_agent(monkeypatch, responses):
    import react_agent_tools

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr(react_agent_tools, "web_search_available", lambda *args, **kwargs: False)
    llm, recorder = recording_llm(responses)
    namespace = {"llm": llm, "PromptTemplate": PromptTemplate}  # imported in the single-link section
    run_cells(code_cells("### LangChain 中的 ReAct", "## 本章小結"), namespace)
    assert namespace["agent_llm"] is llm  # without an OpenAI key the agent runs on the chapter's model
    return namespace["result"], recorder.prompts


def test_agent_prompt_is_english_and_lists_the_tools(monkeypatch):
    _, prompts = run_agent(monkeypatch, ["I now know the final answer\nFinal Answer: done"])
    prompt = prompts[0]
    assert prompt.isascii()  # tool names and descriptions are English, like the prompt around them
    assert "Action: one of [calculator, web_search]" in prompt
    assert "A calculator. Input:" in prompt and "A search engine (offline" in prompt
    assert f"Question: {QUESTION}" in prompt and prompt.rstrip().endswith("Thought:")


def test_agent_uses_both_tools_and_finishes(monkeypatch):
    result, prompts = run_agent(monkeypatch, [
        "I should look the price up.\nAction: web_search\nAction Input: Nintendo Switch 2 price USD",
        "Now convert it.\nAction: calculator\nAction Input: 449.99 * 32.5",
        "I now know the final answer\nFinal Answer: 449.99 USD is 14624.675 TWD.",
    ])
    steps = result["intermediate_steps"]
    assert [action.tool for action, _ in steps] == ["web_search", "calculator"]
    assert "449.99" in steps[0][1] and "32.5" in steps[0][1] and steps[1][1] == "14624.675"
    assert result["output"] == "449.99 USD is 14624.675 TWD."
    assert "Observation: 14624.675" in prompts[-1]  # the tool's answer went back to the model


def test_agent_stops_at_four_steps_on_unparseable_replies(monkeypatch):
    result, prompts = run_agent(monkeypatch, ["I am a small model and I ramble."])
    assert len(result["intermediate_steps"]) == len(prompts) == 4
    assert "iteration limit" in result["output"]


def test_agent_reports_an_unknown_tool_back_to_the_model(monkeypatch):
    result, _ = run_agent(monkeypatch, ["Action: wikipedia\nAction Input: Nintendo", "Final Answer: ok"])
    assert "is not a valid tool" in result["intermediate_steps"][0][1]
    assert result["output"] == "ok"
