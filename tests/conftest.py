"""Make every chapter's helper modules importable, keep UMAP's compiled code, guard llama.cpp's first
import. (The run is sealed -- offline, no credentials, only loopback -- by the repository's top-level
conftest.py, which pytest loads whatever paths it is given.)"""

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.run_notebooks import CHAPTERS  # noqa: E402

for chapter in CHAPTERS:
    sys.path.insert(0, str(ROOT / chapter))

# UMAP compiles with numba on first use (~45 s); keep the compiled code between processes, in the
# same folder the chapter 5 notebook uses (the notebook kernels inherit this environment).
from topic_pipeline import enable_numba_cache  # noqa: E402

enable_numba_cache()

from llama_cpp_check import LlamaCppGate  # noqa: E402

# llama.cpp is loaded in this process only once a child process has shown that this build generates
# from quantized GGUFs (tests/llama_cpp_check.py): the first `import llama_cpp` of the run -- by a
# test, a helper module or a notebook cell a test executes -- waits for that check, and a crashing
# build makes every such import fail with the check's report instead of killing the whole run.
if importlib.util.find_spec("llama_cpp") is not None:
    sys.meta_path.insert(0, LlamaCppGate())


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
