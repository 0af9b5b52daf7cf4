"""The one way set-up and tools talk to the console (standard library only: book.py uses it first)."""

from __future__ import annotations

import sys


def reconfigure() -> None:
    """A console that cannot encode a character (cp950 and ✓, say) prints "?" instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def say(message: str, source: str = "book.py") -> None:
    """One progress line, flushed at once, prefixed with the tool that says it: ``[book.py] …``."""
    print(f"[{source}] {message}", flush=True)
