"""One definition of "written as in Taiwan": Simplified-only characters and mainland terms.

The prose tests (tests/test_zh_tw.py) and the 繁中實戰 cells that measure what a model writes use
the same lists, so a notebook's "簡體字比例" means exactly what the project's own check means.
"""

from __future__ import annotations

import re
from functools import cache

# Pairs where s2tw picks one of two characters that Taiwanese writing uses both of. Only characters that are
# themselves Traditional (in Big5) belong here: a Simplified-only character such as 复, 团 or 尽 must fail.
ALLOWED_VARIANTS = frozenset({
    ("了", "瞭"), ("布", "佈"), ("著", "着"), ("占", "佔"), ("周", "週"), ("台", "臺"),
    ("干", "幹"), ("制", "製"), ("面", "麵"), ("里", "裡"), ("系", "係"), ("只", "隻"),
    ("准", "準"), ("表", "錶"), ("才", "纔"), ("采", "採"), ("余", "餘"), ("征", "徵"),
    ("于", "於"), ("后", "後"), ("合", "閤"), ("松", "鬆"), ("向", "嚮"),
    ("回", "迴"), ("注", "註"), ("游", "遊"), ("云", "雲"), ("谷", "穀"), ("范", "範"),
    ("丑", "醜"), ("斗", "鬥"), ("卷", "捲")})

# Mainland usages written in Traditional characters; Taiwan says 程式碼, 網路, 預設, 資訊, 資料 ...
MAINLAND_TERMS = ("代碼", "網絡", "默認", "信息", "數據", "運行", "軟件", "內存", "緩存", "支持", "創建", "設置",
                  "視頻", "用戶", "字符", "變量", "對象", "調用", "接口", "服務器", "線程", "屏幕", "質量", "激活函數",
                  "鼠標", "硬盤", "打印", "兼容", "插件", "文件夾", "菜單")

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@cache
def _converter(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def han_characters(text: str) -> list[str]:
    """The Chinese characters (CJK ideographs) of ``text``, in order; punctuation and Latin letters are left out."""
    return HAN.findall(text)


def simplified_only(text: str) -> list[str]:
    """The characters of ``text`` that only Simplified writing uses (OpenCC s2tw changes them), in order."""
    converted = _converter("s2tw").convert(text)
    if len(converted) != len(text):  # a phrase rule changed the length: compare character by character
        converted = "".join(_converter("s2tw").convert(character) for character in text)
    return [a for a, b in zip(text, converted) if a != b and (a, b) not in ALLOWED_VARIANTS]


def mainland_terms(text: str) -> list[str]:
    """Every occurrence of a term from ``MAINLAND_TERMS`` in ``text`` (a term found twice is listed twice)."""
    return [term for term in MAINLAND_TERMS for _ in range(text.count(term))]


def to_taiwan(text: str) -> str:
    """OpenCC ``s2twp``: Simplified -> Traditional with Taiwan's characters and Taiwan's words (軟件 -> 軟體 ...)."""
    return _converter("s2twp").convert(text)


def script_report(text: str) -> dict[str, float | int]:
    """How Taiwanese a text is: Simplified-only characters as a share of its Chinese characters, and
    mainland terms per 1,000 Chinese characters."""
    han = len(han_characters(text))
    simplified = len(simplified_only(text))
    terms = len(mainland_terms(text))
    return {
        "漢字數": han,
        "簡體字": simplified,
        "簡體字比例": simplified / han if han else 0.0,
        "大陸用語": terms,
        "每千字大陸用語": 1000 * terms / han if han else 0.0,
    }
