"""Chapter 7 (補充) prompt formats: a GGUF's own chat template renders the book's hand-written format.

The book's chains themselves run from the notebook's cells in ``test_chapter07_notebook_steps.py``.
"""

from __future__ import annotations

import pytest
from prompt_formats import chat_format, chat_prompt, render_chat_template

# the notebook's (and the book's) hand-written template; test_chapter07_notebook_steps checks the notebook has it
BOOK_PHI3 = "<s><|user|>\n{input_prompt}<|end|>\n<|assistant|>"
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


class FakeGGUF:
    """Stands in for llama_cpp.Llama: metadata and detokenize, enough for prompt_formats."""

    def __init__(self, template: str, tokens: dict[int, str], add_bos: bool = True):
        self.metadata = {"tokenizer.chat_template": template, "tokenizer.ggml.bos_token_id": "1",
                         "tokenizer.ggml.eos_token_id": "2", "tokenizer.ggml.add_bos_token": str(add_bos).lower()}
        self.tokens = tokens

    def detokenize(self, ids, special=False):
        return "".join(self.tokens[i] for i in ids).encode()


def phi3_template() -> str:
    import gguf

    from llmbook.offline.phi3 import VOCAB_GGUF
    from llmbook.offline.sources import llama_cpp_vocab_dir

    return gguf.GGUFReader(llama_cpp_vocab_dir() / VOCAB_GGUF).fields["tokenizer.chat_template"].contents()


def test_phi3_chat_template_gives_the_books_hand_written_format():
    model = FakeGGUF(phi3_template(), {1: "<s>", 2: "<|endoftext|>"})
    rendered = chat_format(model, strip_bos=False)
    assert rendered.rstrip("\n") == BOOK_PHI3
    # llama.cpp adds BOS itself: the default drops the leading <s>
    assert chat_format(model) == "<|user|>\n{input_prompt}<|end|>\n<|assistant|>\n"


def test_chat_prompt_keeps_variables_and_escapes_template_braces():
    model = FakeGGUF("{{ bos_token }}{% for m in messages %}{{ '{json}' + m['content'] }}{% endfor %}",
                     {1: "<s>", 2: "</s>"})
    prompt = chat_prompt(model, "Title for {summary}")
    assert prompt.input_variables == ["summary"]
    assert prompt.format(summary="a cat") == "{json}Title for a cat"


def test_chatml_template_with_system_message():
    text = render_chat_template(CHATML, [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert text == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    # SmolLM2: BOS is <|im_start|> and llama.cpp does not add it, so nothing may be stripped
    model = FakeGGUF(CHATML, {1: "<|im_start|>", 2: "<|im_end|>"}, add_bos=False)
    assert chat_format(model, "{q}") == "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"


def test_missing_chat_template_is_a_clear_error_or_a_warned_plain_format():
    from prompt_formats import chat_template_of

    model = FakeGGUF("", {1: "<s>", 2: "</s>"})
    with pytest.raises(ValueError, match="chat template"):
        chat_template_of(model)
    with pytest.warns(UserWarning, match="chat template"):
        assert chat_format(model) == "{input_prompt}\n"
