"""Chapter 2 helpers: load the book's tokenizers in any profile and show their tokens as HTML.

``show_tokens`` draws each token in its own ``<kbd>`` box with a background colour. Jupyter and
Colab show the colours; GitHub strips inline styles from notebook outputs but still draws ``<kbd>``
boxes, so the token boundaries stay visible everywhere (the book's ANSI colour codes do not).
"""

from __future__ import annotations

import functools
import html
import importlib
import json

import pandas as pd
from IPython.display import HTML

from llmbook import get_profile, pick_model
from llmbook.models import lookup

SAMPLE_TEXT = """
English and CAPITALIZATION
🎵 鳥語花香
show_tokens False None elif == >= else: two tabs:"\t\t" Three tabs: "\t\t\t"
12.0*50=600
"""

# The eight tokenizers the book compares, in its order.
BOOK_TOKENIZERS = (
    "bert-base-uncased",
    "bert-base-cased",
    "gpt2",
    "google/flan-t5-small",
    "Xenova/gpt-4",
    "bigcode/starcoder2-15b",
    "facebook/galactica-1.3b",
    "microsoft/Phi-3-mini-4k-instruct",
)

# Ids whose table row is a *model* row (Phi-3 -> SmolLM2 in cpu/offline), while chapter 2 only
# needs the tokenizer: the real one is small, so cpu downloads it and offline builds it.
TOKENIZER_ONLY = {
    "microsoft/Phi-3-mini-4k-instruct": ("llmbook.offline.phi3:phi3_tokenizer_folder", "real"),
    # The table's flan-t5 row is chapter 5's tiny random model; its tokenizer is this stand-in.
    "google/flan-t5-small": ("llmbook.offline.chapter02_assets:flan_t5_standin", "stand-in"),
}

PALETTE = ("#ffd6d6", "#d6f5d6", "#d6e4ff", "#fff2b3", "#f0d6ff", "#d6f5f5")
VISIBLE = {"\n": "↵", "\t": "⇥", " ": "\u00a0"}


def pick_tokenizer(book_id: str, profile: str | None = None) -> str:
    """Like ``pick_model``, for a tokenizer: the id (``gpu``/``cpu``) or a local folder (``offline``)."""
    profile = profile or get_profile()
    if book_id in TOKENIZER_ONLY:
        if profile != "offline":
            return book_id
        module_name, _, function_name = TOKENIZER_ONLY[book_id][0].partition(":")
        return str(getattr(importlib.import_module(module_name), function_name)())
    return pick_model(book_id, profile)


def tokenizer_source(book_id: str, profile: str | None = None) -> str:
    """What this profile loads for ``book_id``, in a few words (for the summary table)."""
    profile = profile or get_profile()
    if profile != "offline":
        return "書中的分詞器"
    kind = TOKENIZER_ONLY[book_id][1] if book_id in TOKENIZER_ONLY else lookup(book_id).offline_kind
    return {"real": "真實詞彙", "stand-in": "本機訓練的替代品", "random": "隨機"}[kind]


def access_hint(book_id: str) -> str:
    return (f"分詞器 {book_id} 載入失敗。若它是需要申請的（gated）儲存庫：請先到 https://huggingface.co/{book_id} "
            "登入並同意使用條款，再用 `hf auth login` 設定存取權杖（token）。這裡先略過它。")


@functools.cache
def load_tokenizer(book_id: str):
    """``AutoTokenizer`` for the book's id under this profile; ``None`` (with a message) when it
    cannot be loaded, e.g. a gated repository without access."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    source = pick_tokenizer(book_id)
    try:
        try:
            # transformers 5 loads a tokenizer-only repository whose class is GPT2Tokenizer(Fast), such
            # as Xenova/gpt-4, with GPT-2's pre-tokenizer and drops the split pattern stored in its
            # tokenizer.json (allenai/open-instruct#1896); the tokenizers backend keeps that file as is.
            return PreTrainedTokenizerFast.from_pretrained(source)
        except (OSError, ValueError):  # no tokenizer.json: let AutoTokenizer convert the files
            return AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as error:  # gated / missing repos surface as OSError in transformers
        print(access_hint(book_id))
        print(f"（原因：{type(error).__name__}: {str(error).splitlines()[0][:200]}）")
        return None


def token_strings(text: str, tokenizer) -> tuple[list[int], list[str]]:
    """The ids of ``text`` (special tokens included, as the book shows them) and each id decoded alone."""
    ids = tokenizer(text).input_ids
    return ids, [tokenizer.decode([token_id]) for token_id in ids]


def visible(token: str) -> str:
    """A token as shown in HTML: new lines, tabs and spaces stay visible."""
    return "".join(VISIBLE.get(char, char) for char in token)


def attribute(token: str) -> str:
    """``token`` escaped for an HTML attribute, with new lines and tabs as character references."""
    return html.escape(token, quote=True).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def tokens_html(name: str, ids: list[int], tokens: list[str]) -> str:
    boxes = []
    for index, (token_id, token) in enumerate(zip(ids, tokens)):
        colour = PALETTE[index % len(PALETTE)]
        boxes.append(
            f'<kbd style="background-color:{colour};color:#000;border-radius:3px;padding:0 2px;'
            f'font-family:monospace" title="id {token_id}" data-token="{attribute(token)}">'
            f"{html.escape(visible(token), quote=False)}</kbd>"
        )
    header = f"<p><b>{html.escape(name)}</b>：{len(ids)} 個 token</p>"
    return f'<div class="llmbook-tokens">{header}<p>' + "\n".join(boxes) + "</p></div>"


def show_tokens(text: str, tokenizer_name: str):
    """Each token of ``text`` under the book's tokenizer ``tokenizer_name``, as coloured HTML.

    Returns an ``IPython.display.HTML`` object (shown when it is the last line of a cell), or
    ``None`` after a message when the tokenizer cannot be loaded here.
    """
    tokenizer = load_tokenizer(tokenizer_name)
    if tokenizer is None:
        return None
    ids, tokens = token_strings(text, tokenizer)
    return HTML(tokens_html(tokenizer_name, ids, tokens))


def algorithm_of(tokenizer) -> str:
    """The tokenization algorithm, read from the tokenizer itself (not from a list of names)."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    model = spec["model"]["type"]
    pre = json.dumps(spec.get("pre_tokenizer") or {})
    if model == "WordPiece":
        return "WordPiece"
    if model == "Unigram":
        return "Unigram（SentencePiece）"
    if model == "BPE" and spec["model"].get("byte_fallback"):
        return "BPE（SentencePiece，byte fallback）"
    if model == "BPE" and "ByteLevel" in pre:
        return "BPE（byte-level）"
    return model


def tokenizer_summary(text: str, names=BOOK_TOKENIZERS) -> pd.DataFrame:
    """One row per tokenizer: algorithm, vocabulary size, tokens for ``text``, unknown tokens, source."""
    rows = []
    for name in names:
        tokenizer = load_tokenizer(name)
        if tokenizer is None:
            rows.append({"分詞器": name, "演算法": "（未載入）"})
            continue
        ids = tokenizer(text).input_ids
        unknown = sum(token_id == tokenizer.unk_token_id for token_id in ids) if tokenizer.unk_token else 0
        rows.append({
            "分詞器": name,
            "演算法": algorithm_of(tokenizer),
            "詞彙量": len(tokenizer),
            "範例的 token 數": len(ids),
            "未知 token 數": unknown,
            "這裡載入的是": tokenizer_source(name),
        })
    return pd.DataFrame(rows).set_index("分詞器")
