"""Chapter 5: how fast this machine embeds documents, and what that means for the notebook.

Measures documents per second for

* ``gte-small shape`` -- a ``BertModel`` with thenlper/gte-small's layout (12 layers, 384 wide,
  512 positions; random weights: speed does not depend on the weights) on texts as long as an
  arXiv abstract (``--abstract-words``, default 180 words), i.e. what the ``cpu`` profile embeds;
* ``all-MiniLM-L6-v2`` -- the real offline model on the offline ``Abstracts`` (BBC openings).

and prints the time the ``cpu`` profile's default sample (``topic_data.CPU_SAMPLE_SIZE``) takes here.

    LLMBOOK_PROFILE=offline HF_HUB_OFFLINE=1 python benchmarks/embedding_rate_ch05.py [--docs 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "chapter05")]

from topic_data import CPU_SAMPLE_SIZE, load_bbc_articles

from llmbook.offline.sources import minilm_path


def gte_small_shaped(folder: Path):
    """A SentenceTransformer with gte-small's architecture (mean pooling), random weights."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(folder)
    word = Transformer(str(folder), max_seq_length=512)
    return SentenceTransformer(modules=[word, Pooling(word.get_embedding_dimension(), "mean")], device="cpu")


def rate(model, texts: list[str], batch_size: int = 32) -> float:
    model.encode(texts[:batch_size], batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200, help="documents to time per model")
    parser.add_argument("--abstract-words", type=int, default=180, help="words per arXiv-like text")
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    articles = load_bbc_articles()
    long_texts = load_bbc_articles(abstract_words=args.abstract_words)["Abstracts"].tolist()[: args.docs]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"torch threads: {torch.get_num_threads()}; load average (1/5/15 min): {load} -- other jobs slow this down")
    with tempfile.TemporaryDirectory() as tmp:
        gte = gte_small_shaped(Path(tmp))
        tokens = sum(len(gte.tokenizer(t)["input_ids"]) for t in long_texts) / len(long_texts)
        gte_rate = rate(gte, long_texts)
    print(f"gte-small shape, {args.abstract_words}-word texts (~{tokens:.0f} tokens): {gte_rate:.1f} docs/s")
    minutes = CPU_SAMPLE_SIZE / gte_rate / 60
    print(f"  cpu profile default sample {CPU_SAMPLE_SIZE:,} abstracts: ~{minutes:.1f} min here")
    minilm = SentenceTransformer(str(minilm_path()), device="cpu")
    offline_texts = articles["Abstracts"].tolist()[: args.docs]
    minilm_rate = rate(minilm, offline_texts)
    print(f"all-MiniLM-L6-v2, offline Abstracts: {minilm_rate:.1f} docs/s"
          f" -> {len(articles):,} docs in ~{len(articles) / minilm_rate:.0f} s here")


if __name__ == "__main__":
    main()
