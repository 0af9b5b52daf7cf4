"""tools/llama_build.py's steps on a GPU runtime and in a set-up cell, in their order, without the network.

A fake ``nvidia-smi`` on PATH stands for the GPU and its driver; llama-cpp-python's wheel index is a real
PEP 503 index served on loopback (``http.server``) holding stand-in wheels: a ``llama_cpp`` whose
``llama_supports_gpu_offload()`` is True, one where it is False, or none at all. pip installs them into a
virtual environment of its own, so every row of the module docstring's decision table runs the real pip
against a real index; only the source builds (minutes) are replaced by a recorder.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llmbook.pins import pinned_version
from tools import llama_build

PIN = pinned_version("llama-cpp-python")


# ---- stand-in wheels and the index ---------------------------------------------------------------

def write_wheel(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A minimal, valid py3-none-any wheel (with RECORD hashes) holding ``files``."""
    dist = f"{name.replace('-', '_')}-{version}"
    entries = dict(files)
    entries[f"{dist}.dist-info/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    entries[f"{dist}.dist-info/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, text in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}.dist-info/RECORD,,")
    entries[f"{dist}.dist-info/RECORD"] = "\n".join(record) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in entries.items():
            archive.writestr(path, text)
    return wheel


def llama_wheel(folder: Path, version: str, offload: bool) -> Path:
    code = (f"__version__ = {version!r}\n"
            f"def llama_supports_gpu_offload():\n    return {offload}\n")
    return write_wheel(folder, "llama-cpp-python", version, {"llama_cpp/__init__.py": code})


def write_index(project: Path) -> None:
    """The PEP 503 page of one project: a link to every wheel in its folder."""
    links = "".join(f'<a href="{w.name}">{w.name}</a><br>\n' for w in sorted(project.glob("*.whl")))
    project.mkdir(parents=True, exist_ok=True)
    (project / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")


class Index:
    """llama-cpp-python's index layout (whl/<tag>/llama-cpp-python/) plus a simple/ index for diskcache."""

    def __init__(self, root: Path):
        self.root, self.paths = root, []
        index = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                index.paths.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        diskcache = root / "simple" / "diskcache"
        write_wheel(diskcache, "diskcache", "5.6.3", {"diskcache/__init__.py": "__version__ = '5.6.3'\n"})
        write_index(diskcache)

    def add(self, tag: str, version: str, offload: bool) -> None:
        project = self.root / "whl" / tag / "llama-cpp-python"
        llama_wheel(project, version, offload)
        write_index(project)

    def tags_asked(self) -> list[str]:
        return [path.split("/")[2] for path in self.paths if path.startswith("/whl/")]


# ---- the machine: a venv, a fake nvidia-smi, the index, recorded builds --------------------------

@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return str(folder / "bin" / "python")


def installed(python: str) -> tuple[str, bool] | None:
    """(version, offload) of the llama_cpp the venv imports; None when there is none."""
    probe = "import llama_cpp; print(llama_cpp.__version__, llama_cpp.llama_supports_gpu_offload())"
    result = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    if result.returncode:
        return None
    version, offload = result.stdout.split()
    return version, offload == "True"


NVIDIA_SMI = """#!/bin/sh
case "$*" in
  *compute_cap*) echo "7.5" ;;
  *) printf '%s\\n' '+------------------------------------------------------------------+' \
       '| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   {cuda}|' ;;
esac
"""


@pytest.fixture
def machine(tmp_path, venv, monkeypatch):
    """Returns set-up functions; records source builds and what the steps said."""
    subprocess.run([venv, "-m", "pip", "uninstall", "-y", "-q", "llama-cpp-python"], capture_output=True)
    index = Index(tmp_path / "index")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")
    monkeypatch.setenv(llama_build.WHEEL_INDEX_VAR, f"{index.url}/whl")
    monkeypatch.setenv("PIP_INDEX_URL", f"{index.url}/simple")  # the dependency (diskcache) comes from here
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")  # not this machine's pip settings
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.delenv(llama_build.CUDA_BUILD_VAR, raising=False)
    builds: list[list[str]] = []
    built_offload = {"value": True}

    def build(python, args, cache=None):
        """Stands for a source build: records the flags, installs a wheel like the one it would make."""
        builds.append(list(args))
        cuda = "-DGGML_CUDA=on" in args
        wheel = llama_wheel(tmp_path / "built", PIN, offload=cuda and built_offload["value"])
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True)
        return wheel

    monkeypatch.setattr(llama_build, "install_build", build)

    def gpu(cuda_line: str | None = "CUDA Version: 12.4  "):
        script = bin_dir / "nvidia-smi"
        script.write_text(NVIDIA_SMI.replace("{cuda}", cuda_line or ""))
        script.chmod(0o755)

    return type("Machine", (), {"index": index, "builds": builds, "gpu": staticmethod(gpu), "python": venv,
                                "built_offload": built_offload})


def steps(said: str) -> list[str]:
    return [line.split("步驟 ")[1].split("：")[0] for line in said.splitlines() if "：" in line and "步驟 " in line]


# ---- one test per row of the decision table ------------------------------------------------------

def test_row1_no_gpu_book_py_builds_for_the_cpu_and_asks_no_index(machine, capsys):
    machine.index.add("cpu", PIN, offload=False)
    llama_build.install(machine.python)
    assert len(machine.builds) == 1 and "-DGGML_CUDA=on" not in machine.builds[0]
    assert machine.index.tags_asked() == []
    assert steps(capsys.readouterr().out) == ["CPU"]


def test_row2_no_gpu_set_up_cell_takes_the_prebuilt_cpu_wheel(machine, capsys):
    machine.index.add("cpu", PIN, offload=False)
    result = llama_build.install(machine.python, prebuilt=True)
    assert installed(machine.python) == (PIN, False)
    assert machine.builds == [] and set(machine.index.tags_asked()) == {"cpu"}
    said = capsys.readouterr().out
    assert steps(said) == ["b"] and "步驟 b 用了" in said and "q4" not in said  # no GPU: nothing to warn about
    assert result.startswith(f"llama-cpp-python=={PIN}") and "/whl/cpu" in result


def test_row2_without_a_cpu_wheel_the_set_up_cell_builds_from_source(machine, capsys):
    result = llama_build.install(machine.python, prebuilt=True)  # the index has nothing
    assert len(machine.builds) == 1 and "-DGGML_CUDA=on" not in machine.builds[0]
    assert steps(capsys.readouterr().out) == ["b", "CPU"]
    assert result.endswith(".whl")


def test_row3_gpu_takes_the_cuda_wheel_for_the_drivers_cuda_version(machine, capsys):
    machine.gpu("CUDA Version: 12.4  ")
    for version in ("0.3.33", "0.3.35", "0.3.37"):  # only 0.3.35 is in the tested range
        machine.index.add("cu124", version, offload=True)
    machine.index.add("cu125", PIN, offload=True)  # a newer toolkit than the driver's: not asked
    result = llama_build.install(machine.python, prebuilt=True)
    assert installed(machine.python) == ("0.3.35", True)
    assert machine.index.tags_asked() == ["cu124", "cu124"]  # the project page and the wheel
    assert machine.builds == []
    said = capsys.readouterr().out
    assert steps(said) == ["a"] and "CUDA 12.4（nvidia-smi）" in said and "步驟 a 用了" in said
    assert result == f"llama-cpp-python==0.3.35 ({machine.index.url}/whl/cu124)"


def test_row3_without_a_cuda_line_torch_names_the_version(machine, capsys):
    machine.gpu(cuda_line=None)
    site = Path(subprocess.run([machine.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "torch").mkdir(exist_ok=True)
    (site / "torch" / "__init__.py").write_text("class version:\n    cuda = '12.8'\n")
    try:
        machine.index.add("cu125", PIN, offload=True)
        llama_build.install(machine.python)
    finally:
        (site / "torch" / "__init__.py").unlink()
        (site / "torch").rmdir()
    assert installed(machine.python) == (PIN, True)
    assert set(machine.index.tags_asked()) == {"cu125"}
    assert "CUDA 12.8（torch.version.cuda）" in capsys.readouterr().out


def test_row4_a_cuda_wheel_that_cannot_offload_gives_way_to_the_cpu_wheel(machine, capsys):
    machine.gpu()
    machine.index.add("cu124", PIN, offload=False)
    machine.index.add("cpu", "0.3.34", offload=False)
    result = llama_build.install(machine.python)
    assert installed(machine.python) == ("0.3.34", False)
    assert machine.builds == []
    said = capsys.readouterr().out
    assert steps(said) == ["a", "b"]
    assert "llama_supports_gpu_offload() 為 False" in said
    assert "q4" in said and "135 分鐘" in said and "86 分鐘" in said and "估算" in said  # the printed estimate
    assert llama_build.CUDA_BUILD_VAR in said  # and how to ask for the CUDA build
    assert "/whl/cpu" in result


@pytest.mark.parametrize("cuda_line", ["CUDA Version: 12.4  ", "CUDA Version: 11.8  ", None],
                         ids=["no-wheel-in-index", "no-index-for-cuda-11", "cuda-version-unknown"])
def test_row5_no_cuda_wheel_means_the_cpu_wheel(machine, capsys, cuda_line):
    machine.gpu(cuda_line)
    machine.index.add("cpu", PIN, offload=False)
    llama_build.install(machine.python)
    assert installed(machine.python) == (PIN, False)
    assert machine.builds == []
    assert steps(capsys.readouterr().out) == ["a", "b"]


def test_row6_the_cuda_build_runs_only_when_asked_and_is_kept_when_it_offloads(machine, capsys, monkeypatch):
    machine.gpu()
    machine.index.add("cpu", PIN, offload=False)
    monkeypatch.setenv(llama_build.CUDA_BUILD_VAR, "1")
    result = llama_build.install(machine.python)
    assert installed(machine.python) == (PIN, True)
    (build,) = machine.builds
    assert "-DGGML_CUDA=on" in build and "-DCMAKE_CUDA_ARCHITECTURES=75" in build
    said = capsys.readouterr().out
    assert steps(said) == ["a", "c"] and "63 minutes" in said  # the measured duration, stated up front
    assert said.index("63 minutes") < said.index("步驟 c 用了")
    assert "cpu" not in machine.index.tags_asked()
    assert result.endswith(".whl")


def test_row7_a_cuda_build_that_cannot_offload_gives_way_to_the_cpu_wheel(machine, capsys, monkeypatch):
    machine.gpu()
    machine.index.add("cpu", PIN, offload=False)
    monkeypatch.setenv(llama_build.CUDA_BUILD_VAR, "1")
    machine.built_offload["value"] = False
    llama_build.install(machine.python)
    assert installed(machine.python) == (PIN, False)
    assert len(machine.builds) == 1
    assert steps(capsys.readouterr().out) == ["a", "c", "b"]


def test_row8_gpu_with_an_empty_index_builds_for_the_cpu(machine, capsys):
    machine.gpu()
    llama_build.install(machine.python)
    assert len(machine.builds) == 1 and "-DGGML_CUDA=on" not in machine.builds[0]
    said = capsys.readouterr().out
    assert steps(said) == ["a", "b", "CPU"]
    assert f"{llama_build.CUDA_BUILD_VAR}=1" in said  # the reader learns how to ask for the CUDA build


def test_an_unreachable_index_is_the_same_as_an_empty_one(machine, capsys, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(llama_build.WHEEL_INDEX_VAR, f"http://127.0.0.1:{port}/whl")
    machine.gpu()
    llama_build.install(machine.python, prebuilt=True)
    assert len(machine.builds) == 1 and steps(capsys.readouterr().out) == ["a", "b", "CPU"]


# ---- the pieces --------------------------------------------------------------------------------

@pytest.mark.parametrize("version, tag", [((12, 4), "cu124"), ((12, 8), "cu125"), ((12, 0), None), ((13, 0), "cu130"),
                                          ((13, 1), "cu130"), ((13, 2), "cu132"), ((11, 8), None), (None, None)])
def test_cuda_wheel_tag_is_the_newest_toolkit_the_driver_runs(version, tag):
    assert llama_build.cuda_wheel_tag(version) == tag


def test_the_tested_range_ends_at_the_pin():
    assert llama_build.tested_range() == f">=0.3.34,<={PIN}"


def test_the_default_index_is_llama_cpp_pythons_own(monkeypatch):
    monkeypatch.delenv(llama_build.WHEEL_INDEX_VAR, raising=False)
    assert llama_build.wheel_index("cu125") == "https://abetlen.github.io/llama-cpp-python/whl/cu125"
    assert llama_build.wheel_index("cpu") == "https://abetlen.github.io/llama-cpp-python/whl/cpu"
