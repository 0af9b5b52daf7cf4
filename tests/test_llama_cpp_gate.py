"""tests/conftest.py's gate (tests/llama_cpp_check.LlamaCppGate): the first in-process `import llama_cpp` of a run waits for the crash check in a
child process; a crashing build turns every such import into an ImportError carrying the report."""

from __future__ import annotations

import llama_cpp_check
import pytest
from llama_cpp_check import LlamaCppGate


def fake_check(monkeypatch, report):
    calls = []
    monkeypatch.setattr(llama_cpp_check, "first_crash", lambda: calls.append(1) or report)
    return calls


def test_a_working_build_is_checked_once_then_imported_normally(monkeypatch):
    calls = fake_check(monkeypatch, None)
    gate = LlamaCppGate()
    assert gate.find_spec("numpy") is None and calls == []  # other modules are not its business
    assert gate.find_spec("llama_cpp") is None and gate.find_spec("llama_cpp") is None
    assert calls == [1]


def test_a_crashing_build_fails_each_import_with_the_report(monkeypatch):
    fake_check(monkeypatch, "Q4_0 generation crashed (exit -4): illegal instruction")
    gate = LlamaCppGate()
    for _ in range(2):
        with pytest.raises(ImportError, match="illegal instruction"):
            gate.find_spec("llama_cpp")
