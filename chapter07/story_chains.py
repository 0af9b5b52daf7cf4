"""Chapter 7, "a chain with multiple prompts": summary -> title -> character -> story.

The book chains three ``LLMChain`` objects with ``output_key``s; with LCEL each step is a
``RunnablePassthrough.assign`` that adds one key, so the result keeps the book's keys:
``summary``, ``title``, ``character`` and ``story``.
"""

from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

# The user messages of the three prompts (wrapped in the model's chat format by the notebook).
TITLE_REQUEST = "Write a title for a story about {summary}. Reply with the title only."
CHARACTER_REQUEST = ("Describe the main character of a story about {summary} titled {title}. "
                     "Use at most two sentences.")
STORY_REQUEST = ("Write a story about {summary} titled {title}. The main character is: {character} "
                 "Reply with the story only, in one paragraph.")


def story_chain(llm, title_prompt, character_prompt, story_prompt):
    """``{"summary"}`` (or the summary as a plain string, as in the book) ->
    ``{"summary", "title", "character", "story"}``, one LLM call per key."""
    text = llm | StrOutputParser()
    return (
        RunnableLambda(lambda value: value if isinstance(value, dict) else {"summary": value})
        | RunnablePassthrough.assign(title=title_prompt | text | str.strip)
        | RunnablePassthrough.assign(character=character_prompt | text | str.strip)
        | RunnablePassthrough.assign(story=story_prompt | text | str.strip)
    )
