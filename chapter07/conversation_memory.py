"""Chapter 7 conversation memory with current LangChain/LangGraph.

The book gives ``LLMChain`` a ``ConversationBufferMemory``, ``ConversationBufferWindowMemory``
or ``ConversationSummaryMemory``; those classes live on only in ``langchain_classic``
(deprecated), and so does ``RunnableWithMessageHistory``. The current way is a small LangGraph
graph whose state (the messages) a checkpointer keeps per conversation (``thread_id``). The
chain inside is the book's ``prompt | llm``; what differs between the three memories is how the
stored messages become the ``{chat_history}`` text of the prompt:

* buffer  -- every earlier turn (the text the book's memory produces: "Human: …\\nAI: …");
* window  -- only the last ``k`` exchanges (``trim_messages``);
* summary -- after each answer a summarising step asks the LLM to rewrite one running summary
  and the raw turns are removed from the state, so the next prompt carries the summary alone.

``PromptRecorder`` is a callback that keeps every prompt sent to the model, so a reader (and the
tests) can see exactly what the model was given.
"""

from __future__ import annotations

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    get_buffer_string,
    trim_messages,
)
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph


class PromptRecorder(BaseCallbackHandler):
    """Keeps every prompt an LLM receives (``.prompts``), in order."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def on_llm_start(self, serialized, prompts, **kwargs) -> None:
        self.prompts.extend(prompts)


def history_as_text(messages: list[BaseMessage]) -> str:
    """Earlier turns as "Human: …\\nAI: …" lines, as the book's memory classes write them."""
    return get_buffer_string(messages)


def last_exchanges(messages: list[BaseMessage], k: int) -> list[BaseMessage]:
    """The last ``k`` exchanges (2k messages), starting on a human turn: the book's window ``k``."""
    return trim_messages(messages, max_tokens=2 * k, token_counter=len, strategy="last", start_on="human")


class SummaryState(MessagesState):
    summary: str


def _build(chain, history_text, summarize=None, input_key="input_prompt", history_key="chat_history"):
    """A one-conversation-per-thread graph: respond (and, with ``summarize``, then summarise)."""

    def respond(state, config):
        *earlier, question = state["messages"]
        history = state.get("summary", "") if summarize is not None else history_text(earlier)
        answer = chain.invoke({input_key: question.content, history_key: history}, config)
        return {"messages": [AIMessage(content=str(getattr(answer, "content", answer)))]}

    def summarise(state, config):
        new_lines = history_as_text(state["messages"])
        updated = summarize.invoke({"summary": state.get("summary", ""), "new_lines": new_lines}, config)
        return {
            "summary": str(getattr(updated, "content", updated)).strip(),
            "messages": [RemoveMessage(id=message.id) for message in state["messages"]],
        }

    graph = StateGraph(SummaryState if summarize is not None else MessagesState)
    graph.add_node("respond", respond)
    graph.add_edge(START, "respond")
    if summarize is not None:
        graph.add_node("summarise", summarise)
        graph.add_edge("respond", "summarise")
    return graph.compile(checkpointer=InMemorySaver())


def buffer_chat(chain):
    """Conversation buffer: the prompt gets every earlier turn."""
    return _build(chain, history_as_text)


def window_chat(chain, k: int = 2):
    """Windowed buffer: the prompt gets only the last ``k`` exchanges."""
    return _build(chain, lambda messages: history_as_text(last_exchanges(messages, k)))


def summary_chat(chain, summarize):
    """Summary memory: ``summarize`` (e.g. ``summary_prompt | llm``, inputs ``summary`` and
    ``new_lines``) rewrites the summary after each answer; the prompt gets the summary alone."""
    return _build(chain, None, summarize=summarize)


def ask(chat, text: str, thread_id: str = "default", callbacks=None) -> str:
    """Send one user turn to a chat graph and return the answer."""
    config = {"configurable": {"thread_id": thread_id}, "callbacks": callbacks or []}
    result = chat.invoke({"messages": [HumanMessage(content=text)]}, config)
    answers = [message for message in result["messages"] if isinstance(message, AIMessage)]
    if answers:
        return str(answers[-1].content)
    # Summary memory removed the turns; the answer is the last one the graph produced.
    return _last_answer(chat, thread_id)


def _last_answer(chat, thread_id: str) -> str:
    for snapshot in chat.get_state_history({"configurable": {"thread_id": thread_id}}):
        answers = [m for m in snapshot.values.get("messages", []) if isinstance(m, AIMessage)]
        if answers:
            return str(answers[-1].content)
    return ""


def stored(chat, thread_id: str = "default") -> dict:
    """What the checkpointer keeps for ``thread_id``: the messages (and summary, if any)."""
    return chat.get_state({"configurable": {"thread_id": thread_id}}).values
