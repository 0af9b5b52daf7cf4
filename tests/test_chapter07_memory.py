"""Chapter 7 memory: the book's memory classes (langchain_classic) and the PromptRecorder callback.

The notebook's own memory cells run in test_chapter07_notebook_steps; here the classes are checked on
their own, so a LangChain release that changes what they put in the prompt is caught with a clear name.
"""

from __future__ import annotations

import pytest
from conversation_memory import PromptRecorder
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.prompts import PromptTemplate

CHAT = PromptTemplate.from_template("History:\n{chat_history}\n\nUser: {input_prompt}\nAssistant:")
SUMMARY = PromptTemplate.from_template("Summary so far:\n{summary}\n\nNew lines:\n{new_lines}\n\nNew summary:")
TURNS = [
    "Hello, I'm Mei-Ling and I'm 28 years old. What is 2 + 5?",
    "What is 4 + 6?",
    "What is 9 - 3?",
    "Do you remember my name?",
]


def fake(n=20, prefix="answer"):
    return FakeListLLM(responses=[f"{prefix} {i}" for i in range(n)])


def test_prompt_recorder_keeps_every_prompt_in_order():
    recorder = PromptRecorder()
    chain = CHAT | fake()
    for text in TURNS[:2]:
        chain.invoke({"input_prompt": text, "chat_history": ""}, {"callbacks": [recorder]})
    assert [p.split("User: ")[1].split("\n")[0] for p in recorder.prompts] == TURNS[:2]


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


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_book_summary_memory_carries_the_summary_not_the_raw_turns():
    from langchain_classic.chains import LLMChain
    from langchain_classic.memory import ConversationSummaryMemory

    llm = FakeListLLM(responses=["reply one", "SUMMARY: Mei-Ling, 28.", "reply two", "SUMMARY 2", "reply three", "S3"])
    recorder = PromptRecorder()
    memory = ConversationSummaryMemory(llm=llm, memory_key="chat_history", prompt=SUMMARY)
    chain = LLMChain(prompt=CHAT, llm=llm, memory=memory)
    answers = [chain.invoke({"input_prompt": text}, {"callbacks": [recorder]})["text"] for text in TURNS[:3]]
    assert answers == ["reply one", "reply two", "reply three"]
    second = recorder.prompts[1].split("User:")[0]
    assert "SUMMARY: Mei-Ling, 28." in second and TURNS[0] not in second and "Human:" not in second
    assert memory.load_memory_variables({}) == {"chat_history": "S3"}
