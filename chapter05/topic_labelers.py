"""Chapter 5 topic labellers: infrastructure around the notebook's text-generation steps.

The prompts and the book's ``TextGeneration`` / ``OpenAI`` representation models are built in the
notebook; this module holds what the notebook needs around them:

* ``text2text_pipeline(model_id)`` -- transformers 5 removed the ``text2text-generation`` pipeline
  that the book hands to BERTopic's ``TextGeneration``; ``Text2TextGenerationPipeline`` is a small
  ``transformers.Pipeline`` for encoder-decoder models (T5) that returns what BERTopic reads:
  ``[{"generated_text": ...}]``.
* ``OPENAI_MODEL`` -- the one setting for the OpenAI model (``gpt-3.5-turbo``, the book's, is retired);
  ``check_openai_key(client)`` turns a refused key into a clear message before any topic is labelled.
* ``choose_labeller()`` -- ``"openai"`` when ``OPENAI_API_KEY`` is set, otherwise ``"llama.cpp"``:
  ``local_llm_representation()`` runs a local GGUF model (the stand-in for OpenAI without a key)
  through BERTopic's ``LlamaCPP`` representation model.
"""

from __future__ import annotations

import os

from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, Pipeline

# The book used gpt-3.5-turbo, which OpenAI has retired. Change the model here (or set OPENAI_MODEL).
OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")


class Text2TextGenerationPipeline(Pipeline):
    """Prompt in, generated text out, for encoder-decoder models such as Flan-T5.

    Called like the removed ``text2text-generation`` pipeline: ``generator(prompt, max_new_tokens=20)``
    returns ``[{"generated_text": "..."}]`` (one dict per returned sequence).
    """

    def _sanitize_parameters(self, max_input_tokens=None, **generate_kwargs):
        preprocess = {} if max_input_tokens is None else {"max_input_tokens": max_input_tokens}
        return preprocess, generate_kwargs, {}

    def preprocess(self, prompt, max_input_tokens=512):
        return self.tokenizer(prompt, return_tensors="pt", truncation=True, max_length=max_input_tokens)

    def _forward(self, model_inputs, **generate_kwargs):
        return {"output_ids": self.model.generate(**model_inputs, **generate_kwargs)}

    def postprocess(self, model_outputs):
        texts = self.tokenizer.batch_decode(model_outputs["output_ids"], skip_special_tokens=True)
        return [{"generated_text": text.strip()} for text in texts]


def text2text_pipeline(model_id: str, device: str | None = None) -> Text2TextGenerationPipeline:
    """Load a seq2seq model (e.g. google/flan-t5-small) into ``Text2TextGenerationPipeline``."""
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_id)
    return Text2TextGenerationPipeline(model=model, tokenizer=tokenizer, device=device)


class OpenAIKeyError(RuntimeError):
    """The OpenAI key is missing or refused."""


def check_openai_key(client) -> None:
    """Ask the API for the model list once; a refused key becomes a clear OpenAIKeyError."""
    import openai

    try:
        client.models.list()
    except openai.AuthenticationError as error:
        raise OpenAIKeyError(
            "OpenAI 拒絕了這把 API 金鑰（OPENAI_API_KEY）：請確認金鑰正確、還沒被撤銷；"
            "或清除 OPENAI_API_KEY，改用本機的 LLM 命名主題。"
            f" / OpenAI refused the API key in OPENAI_API_KEY ({error.status_code})"
        ) from error


def local_llm_representation(gguf_path: str, prompt: str, n_ctx: int = 2048,
                             max_tokens: int = 16, nr_docs: int = 3, doc_length: int = 40, **kwargs):
    """BERTopic's LlamaCPP representation model on a local GGUF file: greedy, one short label per topic.

    ``prompt`` is the notebook's, with BERTopic's ``[DOCUMENTS]`` and ``[KEYWORDS]`` placeholders.
    Three documents of at most 40 words each keep the prompt short, so a CPU labels a topic quickly.
    """
    from bertopic.representation import LlamaCPP
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf_path), n_ctx=n_ctx, n_gpu_layers=-1, seed=42, verbose=False)
    pipeline_kwargs = {"max_tokens": max_tokens, "temperature": 0.0, "stop": ["\n"]}
    return LlamaCPP(llm, prompt=prompt, pipeline_kwargs=pipeline_kwargs, nr_docs=nr_docs,
                    doc_length=doc_length, tokenizer="whitespace", **kwargs)


def choose_labeller() -> str:
    """``"openai"`` only when OPENAI_API_KEY is set (and not empty) and the profile is not ``offline``
    (which never calls a remote service, whatever key is set), else ``"llama.cpp"``."""
    from llmbook.profiles import get_profile

    if get_profile() == "offline":
        return "llama.cpp"
    return "openai" if os.environ.get("OPENAI_API_KEY", "").strip() else "llama.cpp"
