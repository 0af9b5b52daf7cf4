"""Seal the test run, however it was started, and make every chapter's helper modules importable.

Sealed here, at session start, and not only by ``book.py test``: a bare ``pytest`` or ``pytest --nbmake``
gets the same offline profile, loses the caller's credentials (OPENAI_API_KEY, HF_TOKEN ...) and refuses
every connection beyond loopback -- in this process and, through ``PYTHONPATH``, in every notebook kernel
and subprocess it starts, since they inherit this environment (tools/hermetic.py).
"""

import hashlib
import importlib.abc
import importlib.util
import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import hermetic  # noqa: E402
from tools.run_notebooks import CHAPTERS, OUTPUT, keep_executed  # noqa: E402

CREDENTIALS_REMOVED = hermetic.seal(os.environ)
hermetic.guard_this_process()

# Every attempt beyond loopback in this process, refused by the guard, is listed at the end of the run.
REFUSED: list[str] = []
_guarded_connect, _guarded_getaddrinfo = socket.socket.connect, socket.getaddrinfo


def _recording(guarded):
    def call(*args, **kwargs):
        try:
            return guarded(*args, **kwargs)
        except OSError as error:
            if "hermetic test run" in str(error):
                REFUSED.append(f"{os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]}: {error}")
            raise

    return call


socket.socket.connect = _recording(_guarded_connect)
socket.socket.connect_ex = _recording(socket.socket.connect_ex)
socket.getaddrinfo = _recording(_guarded_getaddrinfo)

for chapter in CHAPTERS:
    sys.path.insert(0, str(ROOT / chapter))

# UMAP compiles with numba on first use (~45 s); keep the compiled code between processes, in the
# same folder the chapter 5 notebook uses (the notebook kernels inherit this environment).
from topic_pipeline import enable_numba_cache  # noqa: E402

enable_numba_cache()

# llama.cpp is loaded in this process only once a child process has shown that this build generates
# from quantized GGUFs (tests/llama_cpp_check.py): the first `import llama_cpp` of the run -- by a
# test, a helper module or a notebook cell a test executes -- waits for that check, and a crashing
# build makes every such import fail with the check's report instead of killing the whole run.
LLAMA_CPP = "llama_cpp"


class LlamaCppGate(importlib.abc.MetaPathFinder):
    report: str | None = None
    checked = False

    def find_spec(self, name, path=None, target=None):
        if name != LLAMA_CPP:
            return None
        if not self.checked:
            self.checked = True
            from llama_cpp_check import first_crash

            self.report = first_crash()
        if self.report:
            raise ImportError(self.report)
        return None  # the ordinary finders import it


if importlib.util.find_spec(LLAMA_CPP) is not None:
    sys.meta_path.insert(0, LlamaCppGate())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A notebook that fails under nbmake leaves its executed copy, traceback included, in
    executed/failed/<its path>, named in the failure report."""
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or call.excinfo is None or type(call.excinfo.value).__name__ != "NotebookFailedException":
        return
    target = keep_executed(call.excinfo.value.args[0].nb, Path(str(item.path)), OUTPUT / "failed")
    report.sections.append(("executed copy", f"執行到失敗為止的 notebook / the executed copy: {target}"))


@pytest.fixture
def digests_of_two_builds(tmp_path):
    """``build_twice(write, filename)``: run a builder's ``write(folder)`` into two fresh folders and
    return the SHA-256 of ``filename`` from each -- equal digests mean the build is deterministic."""

    def build_twice(write, filename: str) -> list[str]:
        digests = []
        for name in ("first", "second"):
            folder = tmp_path / name
            folder.mkdir()
            write(folder)
            digests.append(hashlib.sha256((folder / filename).read_bytes()).hexdigest())
        return digests

    return build_twice


def pytest_report_header(config):
    removed = ", ".join(CREDENTIALS_REMOVED) or "none set"
    return [f"hermetic: profile offline, only loopback; caller's credentials removed: {removed}"]


def pytest_terminal_summary(terminalreporter):
    if REFUSED:
        terminalreporter.write_line(f"hermetic: {len(REFUSED)} attempt(s) beyond loopback refused in pytest's process:")
        for line in REFUSED:
            terminalreporter.write_line(f"  {line}")
    else:
        terminalreporter.write_line("hermetic: no connection beyond loopback was attempted in pytest's process")
