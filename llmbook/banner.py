"""The banner every notebook prints first: versions, profile, device and substitutions."""

from __future__ import annotations

import importlib.metadata
import os
import platform

from .profiles import ENV_VAR, get_device, get_profile
from .substitutions import SUBSTITUTIONS, Substitution

LIBRARIES = ("torch", "transformers", "sentence-transformers", "llama-cpp-python", "langchain",
             "bertopic", "open-clip-torch", "gensim")

KIND_NOTES = {
    "real": "真實的小型模型／資料",
    "random": "隨機權重：輸出沒有意義，但程式碼和書中相同",
    "stand-in": "本專案在本機產生的替代品，不是原本的那一個",
}


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


NOT_IN_BOOK = "補充（書中沒有）"


def in_the_book(row: Substitution) -> bool:
    """Whether the printed book loads ``row.book``: rows the project adds start their reason with 補充（書中沒有）."""
    return not row.why.startswith(NOT_IN_BOOK)


def unchanged_label(row: Substitution) -> str:
    """What to call an id the profile loads as is: the book's model or data, or one the project adds."""
    if not in_the_book(row):
        return "補充：書中沒有的模型，未替換"
    is_data = row.book.startswith(("http://", "https://")) or "/datasets/" in row.cpu_source
    return "書中的資料，未替換" if is_data else "書中的模型，未替換"


def describe(row: Substitution, profile: str) -> str:
    """One line: what the book's id becomes under ``profile``, and why."""
    if profile == "gpu" or (profile == "cpu" and row.cpu == row.book):
        return f"{row.book}（{unchanged_label(row)}）"
    if profile == "cpu":
        return f"{row.book} → {row.cpu}（{row.why}）"
    return f"{row.book} → {row.offline_label}［{KIND_NOTES[row.offline_kind]}］"


def banner_lines(chapter: int, profile: str | None = None) -> list[str]:
    profile = profile or get_profile()
    how = f"由 {ENV_VAR} 指定" if os.environ.get(ENV_VAR) else "自動偵測"
    lines = [
        "函式庫版本：" + " | ".join(f"{k} {v}" for k, v in library_versions().items()),
        f"設定檔（profile）：{profile}（{how}）",
        f"裝置（device）：{get_device()}",
        "本章的模型與資料：",
    ]
    rows = [row for row in SUBSTITUTIONS if chapter in row.chapters]
    lines += [f"  • {describe(row, profile)}" for row in rows]
    if profile == "offline" and any(row.random_weights for row in rows):
        lines.append("  注意：標示「隨機權重」的模型只用來執行和書中相同的程式碼，它們的輸出沒有意義。")
    return lines


def show_banner(chapter: int) -> str:
    """Print the banner for ``chapter`` and return the profile it runs under."""
    profile = get_profile()
    print("\n".join(banner_lines(chapter, profile)))
    return profile
