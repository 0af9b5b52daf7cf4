"""Chapter 7 memory: what each memory puts in the prompt (checked on the prompts a fake LLM receives)."""

from __future__ import annotations

import pytest
from conversation_memory import PromptRecorder, ask, buffer_chat, last_exchanges, stored, summary_chat, window_chat
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.prompts import PromptTemplate

CHAT = PromptTemplate.from_template("History:\n{chat_history}\n\nUser: {input_prompt}\nAssistant:")
SUMMARY = PromptTemplate.from_template("Summary so far:\n{summary}\n\nNew lines:\n{new_lines}\n\nNew summary:")
TURNS = [
    "Hello, I'm Mei-Ling and I'm 28 years old. What is 2 + 5?",
    "What is 4 + 6?",
    "What is 9 - 3?",
    "Do you remember my name?",
]


def run_turns(chat, llm_turns=TURNS, thread_id="t"):
    recorder = PromptRecorder()
    answers = [ask(chat, text, thread_id=thread_id, callbacks=[recorder]) for text in llm_turns]
    return answers, recorder.prompts


def fake(n=20, prefix="answer"):
    return FakeListLLM(responses=[f"{prefix} {i}" for i in range(n)])


def test_buffer_memory_puts_turn_one_into_the_prompt_of_turn_two():
    answers, prompts = run_turns(buffer_chat(CHAT | fake()), TURNS[:2])
    assert answers == ["answer 0", "answer 1"]
    assert "Mei-Ling" not in prompts[0].split("User:")[0]  # nothing remembered before turn 1
    history = prompts[1].split("User:")[0]
    assert f"Human: {TURNS[0]}" in history and "AI: answer 0" in history
    assert prompts[1].rstrip().endswith(f"User: {TURNS[1]}\nAssistant:")


def test_buffer_memory_keeps_threads_apart():
    chat = buffer_chat(CHAT | fake())
    run_turns(chat, TURNS[:1], thread_id="a")
    _, prompts = run_turns(chat, ["Do you remember my name?"], thread_id="b")
    assert "Mei-Ling" not in prompts[0]
    assert len(stored(chat, "a")["messages"]) == 2


def test_window_k2_drops_the_first_turn_after_two_more():
    answers, prompts = run_turns(window_chat(CHAT | fake(), k=2))
    assert answers == ["answer 0", "answer 1", "answer 2", "answer 3"]
    # turn 3 still sees turn 1 (two earlier exchanges); turn 4 sees only turns 2 and 3
    assert "Mei-Ling" in prompts[2]
    last_history = prompts[3].split("User:")[0]
    assert "Mei-Ling" not in last_history and "answer 0" not in last_history
    assert TURNS[1] in last_history and TURNS[2] in last_history
    assert "answer 1" in last_history and "answer 2" in last_history


def test_window_keeps_every_message_in_the_store():
    chat = window_chat(CHAT | fake(), k=2)
    run_turns(chat)
    assert len(stored(chat, "t")["messages"]) == 8  # trimming changes the prompt, not the history


def test_last_exchanges_starts_on_a_human_turn():
    messages = [m for i in range(4) for m in (HumanMessage(f"q{i}"), AIMessage(f"a{i}"))]
    kept = last_exchanges(messages, 2)
    assert [m.content for m in kept] == ["q2", "a2", "q3", "a3"]
    assert [m.content for m in last_exchanges(messages[:-1], 1)] == ["q3"]


def test_summary_memory_carries_the_summary_not_the_raw_turns():
    llm = FakeListLLM(responses=["reply one", "SUMMARY: the user is Mei-Ling, 28.", "reply two",
                                 "SUMMARY: Mei-Ling asked 4 + 6.", "reply three", "SUMMARY 3"])
    chat = summary_chat(CHAT | llm, SUMMARY | llm)
    answers, prompts = run_turns(chat, TURNS[:3])
    assert answers == ["reply one", "reply two", "reply three"]
    chat_prompts = [p for p in prompts if p.startswith("History:")]
    summary_prompts = [p for p in prompts if p.startswith("Summary so far:")]
    assert len(chat_prompts) == 3 and len(summary_prompts) == 3  # one summarising step per turn
    second = chat_prompts[1].split("User:")[0]
    assert "SUMMARY: the user is Mei-Ling, 28." in second
    assert TURNS[0] not in second and "reply one" not in second and "Human:" not in second
    # the summarising step sees the old summary and only the newest exchange
    assert "SUMMARY: the user is Mei-Ling, 28." in summary_prompts[1]
    assert f"Human: {TURNS[1]}" in summary_prompts[1] and TURNS[0] not in summary_prompts[1]
    state = stored(chat, "t")
    assert state["summary"] == "SUMMARY 3" and state["messages"] == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_book_classes_from_langchain_classic_still_remember():
    from langchain_classic.chains import LLMChain
    from langchain_classic.memory import ConversationBufferWindowMemory

    recorder = PromptRecorder()
    memory = ConversationBufferWindowMemory(k=2, memory_key="chat_history")
    chain = LLMChain(prompt=CHAT, llm=fake(), memory=memory)
    for text in TURNS:
        chain.invoke({"input_prompt": text}, {"callbacks": [recorder]})
    assert "Mei-Ling" in recorder.prompts[2] and "Mei-Ling" not in recorder.prompts[3]
