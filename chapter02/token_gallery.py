"""Chapter 2 infrastructure and one 補充 extra for the tokenizer comparison.

Infrastructure: ``load_tokenizer`` loads the book's tokenizers in any profile (through
``llmbook.pick_tokenizer``: a local folder offline, the Hub id elsewhere), keep Xenova/gpt-4's own split pattern under
transformers 5, and turn a gated repository without access into a message instead of an error.
The book's ``show_tokens`` itself is defined in the notebook.

補充 extra: ``tokenizer_summary``, one table row per tokenizer.
"""

from __future__ import annotations

import functools
import json

import pandas as pd

from llmbook import get_profile
from llmbook.models import lookup, pick_tokenizer

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


def tokenizer_source(book_id: str, profile: str | None = None) -> str:
    """What this profile loads for ``book_id``, in a few words (for the summary table)."""
    profile = profile or get_profile()
    if profile != "offline":
        return "書中的分詞器"
    row = lookup(book_id)
    kind = row.offline_tokenizer_kind or row.offline_kind
    return {"real": "真實字彙集", "stand-in": "本機訓練的替代品", "random": "隨機權重"}[kind]


def access_hint(book_id: str) -> str:
    return (f"分詞器 {book_id} 載入失敗。若它是需要申請的（gated）儲存庫：請先到 https://huggingface.co/{book_id} "
            "登入並同意使用條款，再用 `hf auth login` 設定存取權杖（access token）。這裡先略過它。")


def is_gated(error: BaseException | None) -> bool:
    """True when ``error``, or what caused it, is the Hub refusing a gated repository."""
    from huggingface_hub.errors import GatedRepoError

    while error is not None:
        if isinstance(error, GatedRepoError):
            return True
        error = error.__cause__ or error.__context__
    return False


@functools.cache
def load_tokenizer(book_id: str):
    """``AutoTokenizer`` for the book's id under this profile; ``None`` (with a message) only for a
    gated repository the reader has no access to yet. Any other failure is raised."""
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
    except OSError as error:
        if not is_gated(error):
            raise  # a missing or broken tokenizer is a fault to see, not a repository to skip
        print(access_hint(book_id))
        print(f"（原因：{type(error).__name__}: {str(error).splitlines()[0][:200]}）")
        return None


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
    """補充: one row per tokenizer -- algorithm, vocabulary size, tokens for ``text``, unknown tokens, source."""
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
            "字彙集大小": len(tokenizer),
            "範例的詞元數": len(ids),
            "未知詞元數": unknown,
            "這裡載入的是": tokenizer_source(name),
        })
    return pd.DataFrame(rows).set_index("分詞器")
