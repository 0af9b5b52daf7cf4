"""Make every chapter's helper modules importable, and keep the tests offline."""

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for chapter in sorted(ROOT.glob("chapter*")):
    if chapter.is_dir():
        sys.path.insert(0, str(chapter))

# A stray download must fail at once, not after a minute of retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# UMAP compiles with numba on first use (~45 s); keep the compiled code between processes, in the
# same folder the chapter 5 notebook uses (the notebook kernels inherit this environment).
from topic_pipeline import enable_numba_cache  # noqa: E402

enable_numba_cache()

# Tests that load llama.cpp in this process run only once a child process has shown that this
# build generates from quantized GGUFs: a crashing build then fails those tests with its report,
# instead of killing the whole run (tests/llama_cpp_check.py).
LLAMA_CPP_NAMES = ("llama_cpp", "LlamaCpp", "LlamaCPP")


def uses_llama_cpp_in_process(path: Path) -> bool:
    if path.suffix != ".py" or path.name == "test_llama_cpp_quantized.py":
        return False
    text = path.read_text(encoding="utf-8")
    return any(name in text for name in LLAMA_CPP_NAMES)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if uses_llama_cpp_in_process(Path(str(item.path))):
            item.add_marker("llama_cpp_in_process")


def pytest_runtest_setup(item):
    if item.get_closest_marker("llama_cpp_in_process") and importlib.util.find_spec("llama_cpp"):
        from llama_cpp_check import first_crash

        report = first_crash()
        if report:
            pytest.fail(report, pytrace=False)


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
