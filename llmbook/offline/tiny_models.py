"""Tiny models of the book's classes with random weights, where no real small model ships.

* ``tiny_deberta_v3()`` -- a 2-layer ``DebertaV2Model`` (deberta-v3-xsmall's class and width), chapter 2;
* ``build_tiny_flan_t5()`` -- a ``T5ForConditionalGeneration`` with the layout of google/flan-t5-small
  shrunk to two layers, with the stand-in T5 tokenizer (``tokenizer_builds.flan_t5_standin``), chapter 5.

The code path of the book's cells is real; what these models output is meaningless.
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build
from .tokenizer_builds import deberta_tokenizer, flan_t5_standin

VERSION = 1

def _write_tiny_deberta_v3(folder: Path) -> None:
    import torch
    from transformers import AutoTokenizer, DebertaV2Config, DebertaV2Model

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(deberta_tokenizer())
    # deberta-v3-xsmall's width (384) and attention settings, but 2 layers instead of 12.
    config = DebertaV2Config(
        vocab_size=len(tokenizer), hidden_size=384, num_hidden_layers=2, num_attention_heads=6,
        intermediate_size=768, max_position_embeddings=512, relative_attention=True, position_buckets=256,
        norm_rel_ebd="layer_norm", share_att_key=True, pos_att_type=["p2c", "c2p"], position_biased_input=False,
        max_relative_positions=-1, pad_token_id=tokenizer.pad_token_id,
    )
    DebertaV2Model(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def tiny_deberta_v3() -> Path:
    """A 2-layer ``DebertaV2Model`` with random weights (deberta-v3-xsmall's class and width)."""
    return cached_build("ch02-tiny-deberta-v3", VERSION, _write_tiny_deberta_v3)


def _build_flan_t5(target: Path) -> None:
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

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

    The folder is a superset of ``tokenizer_builds.flan_t5_standin()`` (same tokenizer files), so
    one table row can serve chapter 2 (tokenizer) and chapter 5 (model).
    """
    return cached_build("tiny-flan-t5", 3, _build_flan_t5)
