"""Chapter 2, 補充「繁中實戰」: the token costs the notebook tabulates come from real tokenizers (Qwen2
and Llama 3 converted from llama.cpp's vocab GGUFs and checked against llama.cpp's own test vectors),
every comparison its prose states holds -- on the one paragraph and, as medians and ranges, on the 21
paragraphs of chapter02/zh_tw_paragraphs.py --, the two rebuilt tokenizers give llama.cpp's own ids on
every 繁中 text of the chapter, and multilingual-e5-small ranks each 繁中 sentence's English translation
first."""

import functools
import random
import re

import nbformat
import pandas as pd
import pytest
from notebook_code import ROOT, assigned_literals, load_definitions, python_source
from opencc import OpenCC
from test_zh_tw import MAINLAND_TERMS, can_encode_big5
from token_gallery import BOOK_TOKENIZERS, load_tokenizer
from transformers import AutoTokenizer
from zh_tw_paragraphs import PARAGRAPHS, REGISTERS

from llmbook import pick_model
from llmbook.models import lookup
from llmbook.offline import vocabularies
from llmbook.offline.sources import llama_cpp_test_vectors, llama_cpp_vocab_dir

NOTEBOOK = "chapter02/chapter02_tokens_embeddings.ipynb"
ZH_TEXT = assigned_literals(NOTEBOOK, "zh_text")[0]
EN_TEXT = assigned_literals(NOTEBOOK, "en_text")[0]
BOOK_NAMES = assigned_literals(NOTEBOOK, "book_names")[0]
PHRASE = assigned_literals(NOTEBOOK, "phrase")[0]
PAIRS = assigned_literals(NOTEBOOK, "pairs")[0]
QWEN2, LLAMA3 = "Qwen/Qwen2-0.5B", "NousResearch/Meta-Llama-3-8B"


@pytest.fixture(autouse=True)
def offline_profile(monkeypatch):
    monkeypatch.setenv("LLMBOOK_PROFILE", "offline")


def section_code() -> str:
    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    return "\n".join(python_source(cell.source) for cell in nb.cells
                     if cell.cell_type == "code" and cell.get("id", "").startswith("cell-zh"))


@functools.cache
def chinese_tokenizer(name: str):
    """Qwen2 or Llama 3, straight from the builders (not through the notebook's pick_model call)."""
    builder = {QWEN2: vocabularies.qwen2_tokenizer, LLAMA3: vocabularies.llama3_tokenizer}[name]
    return AutoTokenizer.from_pretrained(builder())


def tokenizers() -> dict:
    found = {name: load_tokenizer(name) for name in BOOK_NAMES}
    found.update({name: chinese_tokenizer(name) for name in (QWEN2, LLAMA3)})
    return found


def count(tokenizer, text: str) -> int:
    return len(tokenizer.encode(text, add_special_tokens=False))


@functools.cache
def costs():
    nb = load_definitions(NOTEBOOK, "count_tokens", "token_costs")
    return nb.token_costs(tokenizers(), ZH_TEXT, EN_TEXT, OpenCC("t2s").convert(ZH_TEXT))


# ---- the two tokenizers added for this section ------------------------------------------------

LLAMA_CPP_VOCABS = [(QWEN2, "ggml-vocab-qwen2.gguf"), (LLAMA3, "ggml-vocab-llama-bpe.gguf")]


@pytest.mark.parametrize(("name", "gguf"), LLAMA_CPP_VOCABS)
def test_qwen2_and_llama3_reproduce_llama_cpp_test_vectors(name, gguf):
    tokenizer = chinese_tokenizer(name)
    cases = llama_cpp_test_vectors(gguf)
    assert len(cases) > 40
    assert any(re.search(r"[\u4e00-\u9fff]", text) for text, _ in cases)  # Chinese is among them
    assert [text for text, ids in cases if tokenizer.encode(text, add_special_tokens=False) != ids] == []


def test_qwen2_and_llama3_are_shaped_like_the_published_tokenizers():
    qwen2, llama3 = chinese_tokenizer(QWEN2), chinese_tokenizer(LLAMA3)
    assert len(qwen2) == 151646 and len(llama3) == 128256  # no "[PAD…]" fillers, no extra token
    assert qwen2.convert_ids_to_tokens([151643, 151644, 151645]) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert qwen2("你好").input_ids == qwen2.encode("你好", add_special_tokens=False)  # Qwen2 adds no BOS
    assert llama3("你好").input_ids[0] == 128000  # Llama 3 starts with <|begin_of_text|>
    assert qwen2.encode("cafe\u0301") == qwen2.encode("café")  # Qwen2 normalises to NFC
    assert llama3.encode(" Việt", add_special_tokens=False) == [101798]  # a whole word in the vocabulary wins


def test_the_notebook_loads_qwen2_and_llama3_through_pick_model():
    code = section_code()
    for name in (QWEN2, LLAMA3):
        assert f'AutoTokenizer.from_pretrained(pick_model("{name}"))' in code
        assert lookup(name).offline_kind == "real"
    assert pick_model(QWEN2) == str(vocabularies.qwen2_tokenizer())
    assert pick_model(LLAMA3) == str(vocabularies.llama3_tokenizer())


def test_the_table_leaves_out_the_offline_stand_ins():
    assert set(BOOK_NAMES) < set(BOOK_TOKENIZERS)
    for name in BOOK_NAMES:
        row = lookup(name)
        assert (row.offline_tokenizer_kind or row.offline_kind) == "real"
    left_out = sorted(set(BOOK_TOKENIZERS) - set(BOOK_NAMES))
    assert left_out == ["bert-base-cased", "facebook/galactica-1.3b", "google/flan-t5-small"]
    assert {lookup(name).offline_tokenizer_kind or lookup(name).offline_kind for name in left_out} == {"stand-in"}


# ---- the table is the tokenizers' own counts ---------------------------------------------------

def test_simplified_text_is_opencc_t2s_character_for_character():
    simplified = OpenCC("t2s").convert(ZH_TEXT)
    assert simplified != ZH_TEXT and len(simplified) == len(ZH_TEXT)
    assert 'opencc.OpenCC("t2s").convert(zh_text)' in section_code()


def test_token_costs_are_the_tokenizers_own_counts():
    table = costs()
    simplified = OpenCC("t2s").convert(ZH_TEXT)
    characters = len("".join(ZH_TEXT.split()))
    assert list(table.index) == [*BOOK_NAMES, QWEN2, LLAMA3]
    for name, tokenizer in tokenizers().items():
        zh, en, zs = count(tokenizer, ZH_TEXT), count(tokenizer, EN_TEXT), count(tokenizer, simplified)
        assert table.loc[name, "繁中詞元數"] == zh
        assert table.loc[name, "英文詞元數"] == en
        assert table.loc[name, "簡中詞元數"] == zs
        assert table.loc[name, "每字詞元數"] == pytest.approx(zh / characters)
        assert table.loc[name, "繁中÷英文"] == pytest.approx(zh / en)
        assert table.loc[name, "繁中÷簡中"] == pytest.approx(zh / zs)
    # [UNK] counted for WordPiece; byte-level BPE has no unknown token at all
    bert = load_tokenizer("bert-base-uncased")
    unknown = bert.encode(ZH_TEXT, add_special_tokens=False).count(bert.unk_token_id)
    assert table.loc["bert-base-uncased", "繁中的未知詞元"] == unknown
    assert (table.drop(index="bert-base-uncased")["繁中的未知詞元"] == 0).all()


# ---- what the prose says about the table -------------------------------------------------------

def test_bert_gives_one_token_per_character_but_loses_characters_to_unk():
    row = costs().loc["bert-base-uncased"]
    assert row["每字詞元數"] == 1
    assert row["繁中的未知詞元"] > 0


def test_gpt2_needs_more_than_twice_the_english_tokens():
    assert costs().loc["gpt2", "繁中÷英文"] > 2


def test_qwen2_is_cheapest_and_cheaper_than_english():
    table = costs()
    assert table["每字詞元數"].idxmin() == QWEN2
    assert table.loc[QWEN2, "每字詞元數"] < 1
    assert table.loc[QWEN2, "繁中÷英文"] < 1
    pieces = [chinese_tokenizer(QWEN2).decode(i) for i in chinese_tokenizer(QWEN2).encode(ZH_TEXT)]
    assert {"公布", "超市", "朋友"} <= set(pieces)


def test_llama3_has_the_larger_vocabulary_and_fewer_tokens_than_gpt4():
    table = costs()
    assert len(chinese_tokenizer(LLAMA3)) > len(load_tokenizer("Xenova/gpt-4"))
    assert table.loc[LLAMA3, "繁中詞元數"] < table.loc["Xenova/gpt-4", "繁中詞元數"]


def test_traditional_costs_more_than_simplified_except_for_bert():
    ratios = costs()["繁中÷簡中"]
    assert ratios["bert-base-uncased"] == 1
    assert (ratios.drop(index="bert-base-uncased") > 1).all()


def test_qwen2_splits_the_traditional_phrase_into_more_tokens(capsys):
    show_tokens = load_definitions(NOTEBOOK, "show_tokens").show_tokens
    simplified = OpenCC("t2s").convert(PHRASE)
    show_tokens(PHRASE, QWEN2)
    show_tokens(simplified, QWEN2)
    headers = [line for line in capsys.readouterr().out.splitlines() if line.startswith(QWEN2)]
    assert headers == [f"{QWEN2}：9 個詞元", f"{QWEN2}：5 個詞元"]
    qwen2 = chinese_tokenizer(QWEN2)
    assert len(qwen2.encode("颱")) == 2 and len(qwen2.encode("廂")) == 2
    assert qwen2.decode(qwen2.encode("颱")[0]) == "\ufffd"  # a lone byte decodes to �
    simplified_pieces = [qwen2.decode(i) for i in qwen2.encode(simplified)]
    assert OpenCC("t2s").convert("颱風") in simplified_pieces and OpenCC("t2s").convert("車廂") in simplified_pieces


def test_s2twp_turns_mainland_words_into_taiwan_ones():
    match = re.search(r'OpenCC\("s2twp"\)\.convert\("([^"]+)"\)', section_code())
    assert OpenCC("s2twp").convert(match.group(1)) == "這個軟體會讀取網路上的資訊"


# ---- the 21 paragraphs: medians and ranges ----------------------------------------------------

def markdown(cell_id: str) -> str:
    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    return next(cell.source for cell in nb.cells if cell.get("id") == cell_id)


def paragraph_frame() -> pd.DataFrame:
    """The notebook's ``paragraphs`` table, built as its cell builds it."""
    frame = pd.DataFrame(PARAGRAPHS)
    frame["zh_simplified"] = frame["zh"].map(OpenCC("t2s").convert)
    return frame


@functools.cache
def per_paragraph() -> pd.DataFrame:
    nb = load_definitions(NOTEBOOK, "count_tokens", "token_costs", "paragraph_costs")
    return nb.paragraph_costs(tokenizers(), paragraph_frame())


def test_paragraphs_are_our_own_taiwan_texts_in_three_registers():
    assert len(PARAGRAPHS) >= 20
    registers = [p["register"] for p in PARAGRAPHS]
    assert set(registers) == set(REGISTERS) and len(REGISTERS) >= 3
    assert min(registers.count(r) for r in REGISTERS) >= 6
    for p in PARAGRAPHS:
        zh, en = p["zh"], p["en"]
        assert [c for c in zh if not can_encode_big5(c)] == [], zh  # Taiwan's character set: no Simplified-only character
        assert [term for term in MAINLAND_TERMS if term in zh] == [], zh
        assert re.fullmatch(r"[\x20-\x7e]+", en) and len(en.split()) >= 20, en
        assert OpenCC("t2s").convert(zh) != zh  # each has characters that Simplified writes differently
    assert len({p["zh"] for p in PARAGRAPHS}) == len(PARAGRAPHS) and ZH_TEXT not in {p["zh"] for p in PARAGRAPHS}
    assert "from zh_tw_paragraphs import PARAGRAPHS" in section_code()
    assert 'paragraphs["zh"].map(opencc.OpenCC("t2s").convert)' in section_code()


def test_paragraph_costs_are_token_costs_of_each_paragraph():
    table = per_paragraph()
    assert len(table) == len(PARAGRAPHS) * (len(BOOK_NAMES) + 2)
    for number, p in enumerate(PARAGRAPHS, start=1):
        rows = table[table["段落"] == number]
        assert list(rows.index) == [*BOOK_NAMES, QWEN2, LLAMA3] and set(rows["文體"]) == {p["register"]}
        for name, tokenizer in tokenizers().items():
            zh, zs = count(tokenizer, p["zh"]), count(tokenizer, OpenCC("t2s").convert(p["zh"]))
            assert rows.loc[name, "繁中詞元數"] == zh and rows.loc[name, "簡中詞元數"] == zs
            assert rows.loc[name, "繁中÷英文"] == pytest.approx(zh / count(tokenizer, p["en"]))


def test_the_prose_on_21_paragraphs_states_the_measured_medians_and_counts():
    table = per_paragraph()
    prose = markdown("cell-zh21g")
    by = table.groupby(level="分詞器", sort=False)
    median = by[["每字詞元數", "繁中÷英文", "繁中÷簡中"]].median()
    low, high = by["每字詞元數"].min(), by["每字詞元數"].max()

    def says(text):
        assert text in prose, text

    # tokens per character: Qwen2 lowest in every paragraph, Llama 3 next; BERT ~1 with over half [UNK]
    cheapest = table.reset_index().loc[lambda f: f.groupby("段落")["每字詞元數"].idxmin(), "分詞器"]
    assert set(cheapest) == {QWEN2}
    says(f"中位數 {median.loc[QWEN2, '每字詞元數']:.2f}，範圍 {low[QWEN2]:.2f}～{high[QWEN2]:.2f}")
    assert median["每字詞元數"].drop(index=QWEN2).idxmin() == LLAMA3
    says(f"Llama 3 次之（中位數 {median.loc[LLAMA3, '每字詞元數']:.2f}）")
    bert = table.loc["bert-base-uncased"]
    characters = paragraph_frame()["zh"].map(lambda text: len("".join(text.split()))).to_numpy()
    assert (bert["每字詞元數"].round(1) == 1).all() and (bert["繁中的未知詞元"].to_numpy() > characters / 2).all()
    assert (table.loc["gpt2", "每字詞元數"] > 2).all()
    # 繁中 ÷ English: far above 1 for English vocabularies; Qwen2 about 1, cheaper in only some paragraphs
    says(f"GPT-2 {median.loc['gpt2', '繁中÷英文']:.2f}、GPT-4 {median.loc['Xenova/gpt-4', '繁中÷英文']:.2f}")
    says(f"Qwen2 的中位數是 {median.loc[QWEN2, '繁中÷英文']:.2f}")
    cheaper_than_english = int((table.loc[QWEN2, "繁中÷英文"] < 1).sum())
    assert 0 < cheaper_than_english < len(PARAGRAPHS) / 2
    says(f"只有 {cheaper_than_english} 段比英文省")
    # 繁中 ÷ 簡中: usually above 1 (median), not always
    assert median["繁中÷簡中"]["bert-base-uncased"] == 1 and (median["繁中÷簡中"].drop(index="bert-base-uncased") > 1).all()
    says(f"GPT-4 的中位數 {median.loc['Xenova/gpt-4', '繁中÷簡中']:.2f}、StarCoder2 "
         f"{median.loc['bigcode/starcoder2-15b', '繁中÷簡中']:.2f}，Llama 3 只有 {median.loc[LLAMA3, '繁中÷簡中']:.2f}")
    ratio = table["繁中÷簡中"]
    assert [int((ratio.loc[name] == 1).sum()) for name in (QWEN2, "microsoft/Phi-3-mini-4k-instruct")] == [1, 1]
    assert int((ratio.loc["gpt2"] < 1).sum()) == 2
    says("Qwen2 與 Phi-3 各有一段繁簡一樣多，GPT-2 有兩段繁中反而比簡中少")


def test_the_one_paragraph_prose_counts_bert_unknowns_exactly():
    table = costs()
    characters = len("".join(ZH_TEXT.split()))
    unknown = int(table.loc["bert-base-uncased", "繁中的未知詞元"])
    assert f"這段的 {characters} 個字裡有 {unknown} 個" in markdown("cell-zh15")
    assert table["每字詞元數"].idxmin() == QWEN2 and "每字詞元數最少的不是它，而是 Qwen2" in markdown("cell-zh15")


def test_s2twp_changes_words_it_should_not():
    code = section_code()
    converted = {s: OpenCC("s2twp").convert(s) for s in ["餐厅的菜单", "打开窗户", "请保存好收据", "这种类型的人"]}
    assert converted == {"餐厅的菜单": "餐廳的選單", "打开窗户": "開啟窗戶", "请保存好收据": "請儲存好收據",
                         "这种类型的人": "這種型別的人"}
    assert all(f'"{s}"' in code for s in converted)
    prose = markdown("cell-zh06a")
    assert all(f"「{a}」" in prose and f"「{b}」" in prose for a, b in [("打開", "開啟"), ("保存", "儲存"), ("類型", "型別")])
    assert "「選單」" in prose


# ---- llama.cpp itself on every 繁中 text of the chapter ----------------------------------------

def zh_tw_texts() -> list[str]:
    return [ZH_TEXT, PHRASE, *(zh for zh, _ in PAIRS), *(p["zh"] for p in PARAGRAPHS)]


@pytest.mark.parametrize(("name", "gguf"), LLAMA_CPP_VOCABS)
def test_qwen2_and_llama3_give_llama_cpp_ids_on_every_zh_tw_text(name, gguf):
    import llama_cpp

    vocab = llama_cpp.Llama(model_path=str(llama_cpp_vocab_dir() / gguf), vocab_only=True, verbose=False)
    tokenizer = chinese_tokenizer(name)
    traditional = zh_tw_texts()
    simplified = [OpenCC("t2s").convert(text) for text in traditional]
    assert len(traditional) >= 28 and sum(t != s for t, s in zip(traditional, simplified)) == len(traditional)
    assert any(char in "".join(traditional) for char in "颱廂臺灣")  # characters llama.cpp's own vectors lack
    differing = [text for text in traditional + simplified
                 if tokenizer.encode(text, add_special_tokens=False)
                 != vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False)]
    assert differing == []


# ---- cross-lingual embeddings ------------------------------------------------------------------

def shuffled_english() -> list[str]:
    seed = int(re.search(r"random\.Random\((\d+)\)\.shuffle\(en_sentences\)", section_code()).group(1))
    english = [en for _, en in PAIRS]
    random.Random(seed).shuffle(english)
    return english


def test_the_english_sentences_are_really_shuffled():
    english = shuffled_english()
    assert len(PAIRS) == 5
    assert all(shuffled != en for shuffled, (_, en) in zip(english, PAIRS))  # none left in its place
    assert all(re.search(r"[\u4e00-\u9fff]", zh) and re.fullmatch(r"[\x20-\x7e]+", en) for zh, en in PAIRS)


def test_multilingual_e5_ranks_each_translation_first():
    from sentence_transformers import SentenceTransformer

    code = section_code()
    assert 'SentenceTransformer(pick_model("intfloat/multilingual-e5-small"))' in code
    assert code.count('"query: " + sentence') == 2  # both sides carry the symmetric-task prefix
    model = SentenceTransformer(pick_model("intfloat/multilingual-e5-small"))
    english = shuffled_english()
    zh_vectors = model.encode(["query: " + zh for zh, _ in PAIRS])
    en_vectors = model.encode(["query: " + en for en in english])
    similarities = model.similarity(zh_vectors, en_vectors)
    nb = load_definitions(NOTEBOOK, "translation_ranks")
    assert nb.translation_ranks(similarities, PAIRS, english) == [1] * len(PAIRS)
    for row, (_, translation) in zip(similarities, PAIRS):  # the same, computed directly
        assert english[int(row.argmax())] == translation
    assert float(similarities.min()) > 0.5  # "no number near 0": unrelated pairs still score high
