"""Chapter 7 chains and prompt formats: each key comes from its own prompt; chat templates render right."""

from __future__ import annotations

import pytest
from conversation_memory import PromptRecorder
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.prompts import PromptTemplate
from prompt_formats import chat_format, chat_prompt, render_chat_template
from story_chains import CHARACTER_REQUEST, STORY_REQUEST, TITLE_REQUEST, story_chain

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


def test_story_chain_returns_the_books_keys_each_from_its_own_prompt():
    llm = FakeListLLM(responses=[" The Lost Letter \n", "Mia is twelve. She misses her mother.", "Once upon a time…"])
    prompts = [PromptTemplate.from_template(t) for t in (TITLE_REQUEST, CHARACTER_REQUEST, STORY_REQUEST)]
    recorder = PromptRecorder()
    result = story_chain(llm, *prompts).invoke("a girl that lost her mother", {"callbacks": [recorder]})
    assert set(result) == {"summary", "title", "character", "story"}
    assert result["title"] == "The Lost Letter"
    assert result["character"] == "Mia is twelve. She misses her mother."
    assert result["story"] == "Once upon a time…"
    title_prompt, character_prompt, story_prompt = recorder.prompts
    assert title_prompt == prompts[0].format(summary="a girl that lost her mother")
    assert character_prompt == prompts[1].format(summary=result["summary"], title="The Lost Letter")
    assert story_prompt == prompts[2].format(summary=result["summary"], title="The Lost Letter",
                                             character=result["character"])


def test_story_chain_accepts_a_dict_too():
    llm = FakeListLLM(responses=["T", "C", "S"])
    prompts = [PromptTemplate.from_template(t) for t in (TITLE_REQUEST, CHARACTER_REQUEST, STORY_REQUEST)]
    assert story_chain(llm, *prompts).invoke({"summary": "x"}) == {"summary": "x", "title": "T", "character": "C",
                                                                   "story": "S"}


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
