"""Render the substitution table for README.md: ``python -m tools.readme`` prints it,
``python -m tools.readme --write`` puts it into README.md between the markers."""

from __future__ import annotations

from llmbook.banner import KIND_NOTES
from llmbook.substitutions import SUBSTITUTIONS

BEGIN = "<!-- substitutions:begin (python -m tools.readme) -->"
END = "<!-- substitutions:end -->"


def render_table() -> str:
    lines = [
        BEGIN,
        "| 章 | 書中（`gpu`） | `cpu` | `offline` | 為什麼換 |",
        "|---|---|---|---|---|",
    ]
    for row in SUBSTITUTIONS:
        chapters = ", ".join(str(c) for c in row.chapters)
        cpu = "（同書中）" if row.cpu == row.book else f"`{row.cpu}`"
        offline = f"{row.offline_label}［{KIND_NOTES[row.offline_kind]}］"
        lines.append(f"| {chapters} | `{row.book}` | {cpu} | {offline} | {row.why or '—'} |")
    lines.append(END)
    return "\n".join(lines)


def write_readme(path=None) -> None:
    from pathlib import Path

    path = Path(path or Path(__file__).resolve().parents[1] / "README.md")
    text = path.read_text(encoding="utf-8")
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + render_table() + text[stop:], encoding="utf-8")


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv[1:]:
        write_readme()
    else:
        print(render_table())
