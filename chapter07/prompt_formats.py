"""Chapter 7 (補充) prompt formats: the book writes Phi-3's chat format by hand, and so does the
notebook; a GGUF file also carries its model's own chat template (``tokenizer.chat_template``),
which gives the same text.

``chat_prompt(llm, "…{input_prompt}…")`` wraps a user message in the loaded model's format and
returns a ``PromptTemplate``: the notebook's 補充 cells use it to compare with the book's
hand-written template and to show SmolLM2 (the offline model) its own ChatML format.
"""

from __future__ import annotations

from datetime import datetime

SENTINEL = "\u0000USER\u0000"


def gguf_metadata(llm) -> dict:
    """The key/value metadata of the GGUF behind a ``LlamaCpp`` (or a ``llama_cpp.Llama``)."""
    client = getattr(llm, "client", llm)
    return dict(client.metadata)


def token_text(llm, key: str) -> str:
    """The text of a special token named in the metadata, e.g. ``tokenizer.ggml.bos_token_id``."""
    client = getattr(llm, "client", llm)
    token_id = gguf_metadata(llm).get(key)
    if token_id is None:
        return ""
    return client.detokenize([int(token_id)], special=True).decode("utf-8", errors="replace")


# Used only when a GGUF carries no chat template: the user's text as it is, after BOS.
PLAIN_TEMPLATE = "{{ bos_token }}{% for message in messages %}{{ message['content'] }}\n{% endfor %}"


def chat_template_of(llm, required: bool = True) -> str:
    """The GGUF's ``tokenizer.chat_template``; without one, an error (or, if not ``required``, a
    warning and a plain template that passes the text through)."""
    template = gguf_metadata(llm).get("tokenizer.chat_template")
    if template:
        return template
    if required:
        raise ValueError("這個 GGUF 沒有 tokenizer.chat_template / the GGUF has no chat template")
    import warnings

    warnings.warn("這個 GGUF 沒有聊天模板（chat template），改用不加任何特殊詞元的純文字格式。", stacklevel=2)
    return PLAIN_TEMPLATE


def render_chat_template(template: str, messages: list[dict], bos_token: str = "", eos_token: str = "",
                         add_generation_prompt: bool = True) -> str:
    """Render a Hugging Face-style Jinja chat template (the way transformers does)."""
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template).render(messages=messages, bos_token=bos_token, eos_token=eos_token,
                                            add_generation_prompt=add_generation_prompt)


def chat_format(llm, user_text: str = "{input_prompt}", system: str | None = None,
                strip_bos: bool = True) -> str:
    """The prompt text the model's own chat template produces for one user message.

    ``user_text`` may hold ``{variables}``: they pass through untouched, while braces coming from
    the template itself are escaped, so the result is a valid ``PromptTemplate`` string.
    ``strip_bos`` drops a leading BOS token text (Phi-3's ``<s>``) when the GGUF says llama.cpp
    adds BOS by itself (``tokenizer.ggml.add_bos_token``), so the prompt does not start with two.
    """
    bos, eos = token_text(llm, "tokenizer.ggml.bos_token_id"), token_text(llm, "tokenizer.ggml.eos_token_id")
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": SENTINEL}]
    text = render_chat_template(chat_template_of(llm, required=False), messages, bos_token=bos, eos_token=eos)
    adds_bos = str(gguf_metadata(llm).get("tokenizer.ggml.add_bos_token", "false")).lower() == "true"
    if strip_bos and adds_bos and bos and text.startswith(bos):
        text = text[len(bos):]
    text = text.replace("{", "{{").replace("}", "}}")
    return text.replace(SENTINEL, user_text)


def chat_prompt(llm, user_text: str, system: str | None = None):
    """A ``PromptTemplate`` for ``user_text`` (with ``{variables}``) in the loaded model's chat format."""
    from langchain_core.prompts import PromptTemplate

    return PromptTemplate.from_template(chat_format(llm, user_text, system=system))
