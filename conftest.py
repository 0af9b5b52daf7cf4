"""Seal every test run, however it was started: ``book.py test``, a bare ``pytest``, or ``pytest --nbmake
chapter05/...`` alone (pytest loads this file for any path under the repository).

At session start the run gets the offline profile, loses the caller's credentials (OPENAI_API_KEY,
HF_TOKEN ...) and refuses every connection beyond loopback -- in this process and, through
``PYTHONPATH``, in every notebook kernel and subprocess it starts, since they inherit this
environment (tools/hermetic.py). A test may still set loopback credentials of its own later (a local
OpenAI-compatible server). Attempts beyond loopback in this process are listed at the end of the run.
"""

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from tools import hermetic  # noqa: E402
from tools.run_notebooks import OUTPUT, keep_executed  # noqa: E402

CREDENTIALS_REMOVED = hermetic.seal(os.environ)

# Several pytest-xdist workers on one machine (book.py test): torch, numba and OpenMP would each start a
# thread per core in every worker and in every notebook kernel it starts, and two workers' notebooks then
# fight over the cores with spinning threads (chapter 3's generation without KV cache went from under a
# minute to over ten). Each worker gets its share of the cores instead; a value the caller set wins.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    _threads = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_name, _threads)
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


def pytest_report_header(config):
    removed = ", ".join(CREDENTIALS_REMOVED) or "none set"
    return [f"hermetic: profile offline, only loopback; caller's credentials removed: {removed}"]


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its refused attempts to the main process, which lists them all."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["hermetic_refused"] = REFUSED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    REFUSED.extend(getattr(node, "workeroutput", {}).get("hermetic_refused", []))


def pytest_terminal_summary(terminalreporter):
    if REFUSED:
        terminalreporter.write_line(f"hermetic: {len(REFUSED)} attempt(s) beyond loopback refused in pytest's processes:")
        for line in REFUSED:
            terminalreporter.write_line(f"  {line}")
    else:
        terminalreporter.write_line("hermetic: no connection beyond loopback was attempted in pytest's processes")


# Notebook runs take 15-170 s each, the other tests a few seconds at most (benchmarks/results/):
# they go first, the heaviest chapters first, so that with several processes (book.py test) no long
# notebook starts last while the other processes have nothing left to do.
HEAVIEST_CHAPTERS = ("chapter07", "chapter05", "chapter03")


def pytest_collection_modifyitems(items):
    def order(item):
        runs_a_notebook = item.path.suffix == ".ipynb" or getattr(item, "originalname", "") == "test_notebook_rehearsal"
        if not runs_a_notebook:
            return (1, 0)  # the other tests keep their order
        heavy = [rank for rank, chapter in enumerate(HEAVIEST_CHAPTERS) if chapter in item.nodeid]
        offline_first = 0 if item.path.suffix == ".ipynb" else 1  # the offline notebook runs longest
        return (0, heavy[0] if heavy else len(HEAVIEST_CHAPTERS), offline_first)

    items.sort(key=order)
