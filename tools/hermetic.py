"""What a hermetic test run strips and sets, and how: one definition for ``book.py test``, a bare
``pytest`` or nbmake run (tests/conftest.py) and the Colab tier.

Standard library only: ``book.py`` imports it before anything is installed.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import socket
from collections.abc import MutableMapping
from pathlib import Path

# The Hugging Face libraries' own offline switches: any stray download fails at once.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
# Credentials a test run must never see, whatever the caller has set.
SECRET_NAME = re.compile(r"(_API_KEY|_TOKEN|_SECRET)$|^OPENAI_|^HF_TOKEN|^HUGGING_FACE_HUB_TOKEN")
# tests/hermetic/sitecustomize.py refuses every connection beyond loopback in each Python process.
HERMETIC_SITE = Path(__file__).resolve().parents[1] / "tests" / "hermetic"
HERMETIC_VAR = "LLMBOOK_HERMETIC"


def seal(env: MutableMapping[str, str]) -> list[str]:
    """Make ``env`` a hermetic run's environment, in place; returns the names of the credentials removed.

    The offline profile, the Hub's offline switches, no credentials of the caller, and
    tests/hermetic first on ``PYTHONPATH`` so that every Python process started with ``env`` (pytest,
    each notebook's kernel, subprocess checks) refuses connections beyond loopback. A test may still
    set loopback credentials of its own afterwards (a local OpenAI-compatible server, say).
    """
    removed = sorted(name for name in env if SECRET_NAME.search(name))
    for name in removed:
        del env[name]
    env.update(OFFLINE_ENV)
    env["LLMBOOK_PROFILE"] = "offline"
    paths = [part for part in env.get("PYTHONPATH", "").split(os.pathsep) if part and part != str(HERMETIC_SITE)]
    env["PYTHONPATH"] = os.pathsep.join([str(HERMETIC_SITE), *paths])
    env[HERMETIC_VAR] = "1"
    return removed


def guard_active() -> bool:
    """True when this process's sockets already go through the loopback-only guard."""
    return inspect.isfunction(socket.socket.connect)


def guard_this_process() -> None:
    """Switch the loopback-only guard on in this process, when ``sitecustomize`` has not already
    (a process started before ``PYTHONPATH`` named tests/hermetic, such as a bare ``pytest``)."""
    if guard_active():
        return
    os.environ[HERMETIC_VAR] = "1"
    spec = importlib.util.spec_from_file_location("llmbook_hermetic_guard", HERMETIC_SITE / "sitecustomize.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    if not guard_active():
        raise RuntimeError(f"{HERMETIC_SITE / 'sitecustomize.py'} did not switch the loopback-only guard on")
