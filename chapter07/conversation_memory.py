"""Chapter 7 memory: a callback that shows what each memory puts into the prompt.

The notebook builds the book's memories itself (``ConversationBufferMemory``,
``ConversationBufferWindowMemory`` and ``ConversationSummaryMemory`` with ``LLMChain``, from
``langchain_classic`` since LangChain 1.x). ``PromptRecorder`` is a callback that keeps every prompt
sent to the model, so a reader (and the tests) can see exactly what the model was given.
"""

from __future__ import annotations

from langchain_core.callbacks import BaseCallbackHandler


class PromptRecorder(BaseCallbackHandler):
    """Keeps every prompt an LLM receives (``.prompts``), in order."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def on_llm_start(self, serialized, prompts, **kwargs) -> None:
        self.prompts.extend(prompts)
