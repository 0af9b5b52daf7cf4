"""Run a notebook, unchanged, under the ``gpu`` or ``cpu`` profile's code paths against local services.

``Rehearsal`` starts, on loopback: the local Hub (``hub.py``, reached through ``HF_ENDPOINT``), the
web mirror (``web.py``, reached through ``https_proxy`` and ``SSL_CERT_FILE``) and, for the OpenAI
branch, ``llama_cpp.server`` -- llama-cpp-python's own OpenAI-compatible server -- with a small real
chat model, reached through ``OPENAI_BASE_URL`` with a dummy key. Each notebook then runs in a fresh
kernel whose environment is a reader's (profile set, no offline switches, an empty Hugging Face cache,
so every file really travels through the local Hub), kept hermetic: only loopback is reachable.

Modes: ``cpu`` and ``gpu`` (``LLMBOOK_GPU_WITHOUT_CUDA=1``: the gpu profile's lines on this machine's
device), and ``openai`` (the ``cpu`` profile with an OpenAI key, for the chapters with an OpenAI branch).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tools.hermetic import HERMETIC_SITE, OFFLINE_ENV, SECRET_NAME

from . import standins
from .contract import Contract
from .hub import LocalHub, Request
from .web import WebMirror

ROOT = Path(__file__).resolve().parents[2]
EXECUTED = ROOT / "executed" / "rehearsal"
MODES = ("offline", "cpu", "gpu", "openai")  # offline: the same runner with no services, for comparison
OPENAI_CHAPTERS = ("chapter05", "chapter07")
# The model name the notebooks ask the OpenAI API for (chapter 5's OPENAI_MODEL, chapter 7's ChatOpenAI).
OPENAI_MODEL_ALIAS = "gpt-4o-mini"
DUMMY_OPENAI_KEY = "sk-rehearsal-local-only"
CELL_TIMEOUT_S = 900


class RehearsalFailure(AssertionError):
    """A notebook cell failed, or asked for something outside the Hub contract."""


@dataclass
class NotebookRun:
    notebook: str
    mode: str
    seconds: float = 0.0
    hub: list[Request] = field(default_factory=list)
    web: list[Request] = field(default_factory=list)
    openai_calls: int = 0

    def violations(self) -> list[Request]:
        return [r for r in self.hub + self.web if r.note.startswith("outside the contract")]

    def fetched(self) -> set[str]:
        """The remote names this run downloaded: ``repo/file`` for Hub files, full URLs for the web."""
        names = set()
        for request in self.hub:
            if request.status in (200, 206) and "/resolve/" in request.path:
                repo, _, rest = request.path.lstrip("/").removeprefix("datasets/").partition("/resolve/")
                names.add(f"{repo}/{rest.partition('/')[2]}")
        names |= {r.path for r in self.web if r.status == 200}
        return names


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OpenAIServer:
    """``llama_cpp.server`` on loopback serving one GGUF under the alias the notebooks ask for."""

    def __init__(self, gguf: Path, log_file: Path):
        self.port = free_port()
        self.log_file = log_file
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias",
                   OPENAI_MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048"]
        env = {**hermetic_base_environment(), **OFFLINE_ENV}
        self._log = open(log_file, "w", encoding="utf-8")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self._wait_until_ready()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _wait_until_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RehearsalFailure(f"llama_cpp.server exited ({self.process.returncode}): "
                                       + self.log_file.read_text(encoding="utf-8")[-2000:])
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RehearsalFailure(f"llama_cpp.server did not answer within {timeout:.0f} s")

    def completions_served(self) -> int:
        """How many chat/completion requests the server has answered so far (its access log)."""
        text = self.log_file.read_text(encoding="utf-8", errors="replace")
        return sum(1 for line in text.splitlines() if "POST /v1/chat/completions" in line and " 200" in line)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def hermetic_base_environment() -> dict[str, str]:
    """The caller's environment without credentials and with the loopback-only guard switched on."""
    env = {name: value for name, value in os.environ.items() if not SECRET_NAME.search(name)}
    env["LLMBOOK_HERMETIC"] = "1"
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p) != HERMETIC_SITE]
    env["PYTHONPATH"] = os.pathsep.join([str(HERMETIC_SITE), *paths])
    return env


class Rehearsal:
    """``with Rehearsal(workdir) as rehearsal: rehearsal.run(notebook, mode, home)``."""

    def __init__(self, workdir: Path, contract: Contract | None = None):
        self.workdir = Path(workdir)
        self.contract = contract or Contract.load()
        self.hub: LocalHub | None = None
        self.web: WebMirror | None = None
        self._openai: OpenAIServer | None = None

    def __enter__(self) -> Rehearsal:
        repositories, web_files = standins.served(self.contract, self.workdir / "served")
        missing = [f"{repo.kind} {repo.repo_id}" for repo in repositories
                   if self.contract.find(repo.kind, repo.repo_id) is None]
        if missing:
            raise RehearsalFailure("the substitution table names what the Hub contract lacks "
                                   "(tools/rehearsal/hub_contract.toml): " + ", ".join(missing))
        self.hub = LocalHub(repositories).__enter__()
        self.web = WebMirror(web_files, self.workdir, known=self.contract.urls()).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._openai:
            self._openai.close()
        if self.web:
            self.web.__exit__(*exc)
        if self.hub:
            self.hub.__exit__(*exc)
        # The reshaped stand-ins (about 0.7 GB) are rebuilt by the next rehearsal; the logs stay.
        shutil.rmtree(self.workdir / "served", ignore_errors=True)

    def openai_server(self) -> OpenAIServer:
        if self._openai is None:
            from llmbook.offline.sources import smollm2_gguf

            self._openai = OpenAIServer(smollm2_gguf(), self.workdir / "llama_cpp_server.log")
        return self._openai

    def environment(self, mode: str, home: Path) -> dict[str, str]:
        """A reader's environment for ``mode``, pointed at the local services, hermetic."""
        if mode not in MODES:
            raise ValueError(f"unknown rehearsal mode {mode!r}; modes: {', '.join(MODES)}")
        if mode == "offline":
            return {**hermetic_base_environment(), **OFFLINE_ENV, "LLMBOOK_PROFILE": "offline"}
        env = {k: v for k, v in hermetic_base_environment().items() if k not in OFFLINE_ENV}
        env.update({
            "LLMBOOK_PROFILE": "gpu" if mode == "gpu" else "cpu",
            "HF_ENDPOINT": self.hub.endpoint,
            "HF_HOME": str(home / "huggingface"),
            "GENSIM_DATA_DIR": str(home / "gensim-data"),
            "https_proxy": self.web.proxy, "HTTPS_PROXY": self.web.proxy,
            "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost",
            "SSL_CERT_FILE": str(self.web.ca_file),
        })
        if mode == "gpu":
            env["LLMBOOK_GPU_WITHOUT_CUDA"] = "1"
        if mode == "openai":
            env["OPENAI_API_KEY"] = DUMMY_OPENAI_KEY
            env["OPENAI_BASE_URL"] = self.openai_server().base_url
        return env

    def run(self, notebook: Path, mode: str, home: Path, timeout: int = CELL_TIMEOUT_S) -> NotebookRun:
        """Execute every cell of ``notebook`` in order; a failing cell raises ``RehearsalFailure``
        naming the notebook, the cell id and the error, and its executed copy is kept."""
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        relative = notebook.resolve().relative_to(ROOT).as_posix()
        result = NotebookRun(relative, mode)
        env = self.environment(mode, home)
        served_before = self._openai.completions_served() if self._openai else 0
        nb = nbformat.read(notebook, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(notebook.parent)}})
        self.hub.take_log()
        self.web.take_log()
        started = time.monotonic()
        failure = None
        try:
            with client.setup_kernel(env=env, cwd=str(notebook.parent)):
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError as error:
                        failure = (f"{relative} {cell.get('id', index)} ({mode} rehearsal): "
                                   f"{error.ename}: {error.evalue}\n{error}")
                        break
        finally:
            result.seconds = time.monotonic() - started
            result.hub, result.web = self.hub.take_log(), self.web.take_log()
            if self._openai:
                result.openai_calls = self._openai.completions_served() - served_before
        if failure or result.violations():
            target = EXECUTED / mode / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
            outside = "\n".join(f"  {r.method} {r.path} -> {r.status}: {r.note}" for r in result.violations())
            raise RehearsalFailure("\n".join(filter(None, [
                failure or f"{relative} ({mode} rehearsal) asked for what the Hub contract does not list:",
                outside and f"requests outside the Hub contract:\n{outside}",
                f"executed copy: {target.relative_to(ROOT)}",
            ])))
        return result
