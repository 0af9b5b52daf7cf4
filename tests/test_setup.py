"""The set-up: book.py's checks and messages, llama-cpp-python's build flags, the hermetic test run,
and the conda environment file kept in step with the pins."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from llmbook.pins import pinned_version, read_pins, requirement_pins
from tools import llama_build
from tools.run_notebooks import LLAMA_CHAPTERS, chapter_notebooks

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book.py"
# /proc/cpuinfo flags of the CPUs this project has met: an AMX Xeon, an AVX-512 Xeon, an AVX2 laptop.
AMX_XEON = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512cd", "avx512vl", "avx512dq",
            "avx512bw", "avx512vbmi", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile"}
AVX2_LAPTOP = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}


@pytest.fixture(scope="module")
def book():
    spec = importlib.util.spec_from_file_location("book", BOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_book(*args: str, env: dict[str, str] | None = None, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, str(BOOK), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


# ---- llama-cpp-python's build --------------------------------------------------------------

def test_amx_cpu_gets_avx512_but_no_amx_and_no_native_build():
    args = llama_build.cmake_args("x86_64", AMX_XEON, "Linux")
    assert "-DGGML_NATIVE=OFF" in args
    for option in ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16"):
        assert f"-D{option}=OFF" in args
    for option in ("GGML_AVX2", "GGML_AVX512", "GGML_AVX512_VNNI", "GGML_AVX512_BF16"):
        assert f"-D{option}=ON" in args  # the fast paths that work stay on


def test_avx2_cpu_never_gets_avx512_instructions():
    args = llama_build.cmake_args("x86_64", AVX2_LAPTOP, "Linux")
    assert "-DGGML_AVX2=ON" in args and "-DGGML_FMA=ON" in args
    assert "-DGGML_AVX512=OFF" in args and "-DGGML_AVX512_BF16=OFF" in args


@pytest.mark.parametrize(("machine", "system"), [("arm64", "Darwin"), ("aarch64", "Linux"), ("AMD64", "Windows")])
def test_other_machines_keep_llama_cpp_defaults(machine, system, monkeypatch):
    monkeypatch.delenv(llama_build.EXTRA_ARGS_VAR, raising=False)
    assert llama_build.cmake_args(machine, set(), system) == []


def test_extra_cmake_args_are_appended(monkeypatch):
    monkeypatch.setenv(llama_build.EXTRA_ARGS_VAR, "-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=75")
    assert llama_build.cmake_args("x86_64", AVX2_LAPTOP, "Linux")[-2:] == ["-DGGML_CUDA=on", "-DCMAKE_CUDA_ARCHITECTURES=75"]


def test_a_change_of_flags_or_compiler_means_another_wheel(tmp_path):
    # pip's cache would hand back an old build (it keys on the sdist alone); ours keys on the inputs.
    amx = llama_build.cmake_args("x86_64", AMX_XEON, "Linux")
    laptop = llama_build.cmake_args("x86_64", AVX2_LAPTOP, "Linux")
    gcc12, gcc14 = "g++ (Debian 12.2.0-14) 12.2.0", "g++ (Debian 14.2.0-19) 14.2.0"
    folders = {llama_build.wheel_folder("0.3.36", args, compiler, tmp_path)
               for args in (amx, laptop) for compiler in (gcc12, gcc14)}
    assert len(folders) == 4
    assert llama_build.wheel_folder("0.3.36", amx, gcc12, tmp_path) == llama_build.wheel_folder("0.3.36", amx, gcc12, tmp_path)


def test_a_reused_wheel_is_installed_without_building(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(llama_build, "nvidia_compute_capability", lambda: None)
    monkeypatch.setattr(llama_build, "find_compiler", lambda: "g++ 12")
    monkeypatch.setattr(llama_build, "build_wheel", lambda *args: calls.append("build"))
    monkeypatch.setattr(llama_build, "pip", lambda python, *args, **kwargs: calls.append(args[:3]))
    folder = llama_build.wheel_folder(pinned_version("llama-cpp-python"), llama_build.cmake_args(), "g++ 12", tmp_path)
    folder.mkdir(parents=True)
    (folder / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl").write_bytes(b"")
    assert Path(llama_build.install("python", cache=tmp_path)).parent == folder
    assert "build" not in calls
    assert ("install", "--disable-pip-version-check", "--no-deps") in calls  # and --force-reinstall


def test_no_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(llama_build, "nvidia_compute_capability", lambda: None)
    monkeypatch.setenv("CXX", "false")
    assert llama_build.find_compiler() is None
    with pytest.raises(llama_build.LlamaBuildError, match="C\\+\\+ compiler"):
        llama_build.install("python")


# ---- llama.cpp on an NVIDIA GPU (Colab's T4) ---------------------------------------------------

@pytest.fixture
def gpu_machine(tmp_path, monkeypatch):
    """A machine whose nvidia-smi lists a T4 and whose CUDA toolkit is 12.x; pip and builds recorded."""
    calls = []
    monkeypatch.setattr(llama_build, "nvidia_compute_capability", lambda: "75")
    monkeypatch.setattr(llama_build, "cuda_toolkit_major", lambda: 12)
    monkeypatch.setattr(llama_build, "find_compiler", lambda: "g++ 12")
    monkeypatch.setattr(llama_build, "pip", lambda python, *args, **kwargs: calls.append(("pip", *args)))

    def build(python, version, args, target):
        calls.append(("build", *args))
        target.mkdir(parents=True)
        (target / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl").write_bytes(b"")
        return target / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"

    monkeypatch.setattr(llama_build, "build_wheel", build)
    return calls


def test_gpu_takes_the_prebuilt_cuda_wheel_when_it_offloads(gpu_machine, monkeypatch, tmp_path):
    monkeypatch.setattr(llama_build, "gpu_offload_supported", lambda python: True)
    installed = llama_build.install("python", cache=tmp_path)
    assert "https://abetlen.github.io/llama-cpp-python/whl/cu125" in installed
    (first,) = [call for call in gpu_machine if "--extra-index-url" in call]
    assert "--only-binary=:all:" in first  # never falls through to PyPI's sdist (a silent CPU build)
    assert not [call for call in gpu_machine if call[0] == "build"]


def test_gpu_builds_for_the_t4_only_when_the_index_has_no_wheel(gpu_machine, monkeypatch, tmp_path):
    def no_wheel(python, *args, **kwargs):
        gpu_machine.append(("pip", *args))
        if "--extra-index-url" in args:
            raise subprocess.CalledProcessError(1, args)

    monkeypatch.setattr(llama_build, "pip", no_wheel)
    monkeypatch.setattr(llama_build, "gpu_offload_supported", lambda python: True)
    installed = llama_build.install("python", cache=tmp_path)
    (build,) = [call for call in gpu_machine if call[0] == "build"]
    assert "-DGGML_CUDA=on" in build and "-DCMAKE_CUDA_ARCHITECTURES=75" in build
    assert installed.endswith(".whl")


def test_gpu_falls_back_to_the_cpu_build_and_says_why(gpu_machine, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(llama_build, "gpu_offload_supported", lambda python: False)
    installed = llama_build.install("python", cache=tmp_path)
    builds = [call for call in gpu_machine if call[0] == "build"]
    assert len(builds) == 2 and "-DGGML_CUDA=on" in builds[0] and "-DGGML_CUDA=on" not in builds[1]
    cpu_folder = llama_build.wheel_folder(pinned_version("llama-cpp-python"), llama_build.cmake_args(), "g++ 12", tmp_path)
    assert Path(installed).parent == cpu_folder
    said = capsys.readouterr().out
    assert "llama_supports_gpu_offload() is False" in said and "4 位元" in said


@pytest.mark.parametrize("major, tag", [(12, "cu125"), (13, "cu130"), (11, None), (None, None)])
def test_cuda_wheel_index_follows_the_toolkit(major, tag):
    index = llama_build.cuda_wheel_index(major)
    assert index == (f"https://abetlen.github.io/llama-cpp-python/whl/{tag}" if tag else None)


def test_compute_capability_is_read_from_nvidia_smi(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho '7.5'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert llama_build.nvidia_compute_capability() == "75"
    fake.write_text("#!/bin/sh\nexit 9\n")
    assert llama_build.nvidia_compute_capability() is None


@pytest.mark.parametrize("line, percent", [("[ 42%] Building CXX object ggml.c.o", 42),
                                           ("[123/456] Building CUDA object mmq.cu.o", 26),
                                           ("-- Configuring done", None)])
def test_build_progress_is_read_from_make_or_ninja(line, percent):
    assert llama_build.progress_percent(line) == percent


def test_a_long_build_prints_its_progress_and_on_failure_its_last_lines(tmp_path, capsys):
    script = tmp_path / "fake_pip.py"
    script.write_text("import sys\n"
                      "for i in range(1, 101):\n    print(f'[{i}/100] Building CUDA object k{i}.cu.o')\n"
                      "print('nvcc fatal : Unsupported gpu architecture')\nsys.exit(2)\n")
    # fake "python -m pip -v …": a python that runs the script whatever the arguments
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    python.chmod(0o755)
    with pytest.raises(subprocess.CalledProcessError):
        llama_build.pip_with_progress(str(python), "wheel", "x")
    out = capsys.readouterr().out
    shown = [line for line in out.splitlines() if line.startswith("[llama_build]") and "%" in line]
    assert 15 <= len(shown) <= 21  # every 5 %, not every object file
    assert "nvcc fatal : Unsupported gpu architecture" in out


def test_llama_cpp_is_pinned_on_its_own():
    assert "llama-cpp-python" not in read_pins(ROOT / "requirements.txt")
    assert pinned_version("llama-cpp-python") == read_pins(ROOT / "requirements-llama.txt")["llama-cpp-python"].split("==")[1]
    assert set(LLAMA_CHAPTERS) == {"chapter05", "chapter07"}


# ---- book.py's checks ----------------------------------------------------------------------

def test_unknown_profile_stops_before_the_set_up():
    result = run_book("run", "chapter01", env={"LLMBOOK_PROFILE": "tpu", "LLMBOOK_VENV": "/nonexistent/venv"})
    assert result.returncode != 0
    assert "'tpu'" in result.stderr and "offline" in result.stderr
    assert "creating the virtual environment" not in result.stdout  # nothing long ran


def test_profile_name_is_normalised_before_it_is_passed_on(book, monkeypatch):
    monkeypatch.setenv("LLMBOOK_PROFILE", " Offline ")
    assert book.resolve_profile() == "offline"


def test_unknown_chapter_stops_before_the_set_up():
    result = run_book("run", "chapter04", env={"LLMBOOK_PROFILE": "offline", "LLMBOOK_VENV": "/nonexistent/venv"})
    assert result.returncode != 0
    assert "chapter04" in result.stderr and "chapter05" in result.stderr


def test_chapters_by_number_or_notebook_path():
    assert chapter_notebooks(["3"]) == chapter_notebooks(["chapter03"])
    notebook = chapter_notebooks(["chapter09"])[0]
    assert chapter_notebooks([str(notebook.relative_to(ROOT))]) == [notebook]


def test_unsupported_python_is_refused_with_the_supported_versions():
    fake_310 = ("import sys; sys.version_info = (3, 10, 13, 'final', 0); sys.version = '3.10.13 (fake)';"
                f"sys.argv = ['book.py', 'test']; exec(compile(open({str(BOOK)!r}).read(), 'book.py', 'exec'))")
    result = subprocess.run([sys.executable, "-c", fake_310], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "3.11" in result.stderr and "3.13" in result.stderr and "3.10.13" in result.stderr


def test_test_run_sees_no_credentials_and_the_offline_profile(book, monkeypatch):
    for name in ("OPENAI_API_KEY", "HF_TOKEN", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, "sk-fake")
    monkeypatch.setenv("LLMBOOK_PROFILE", "gpu")
    env = book.hermetic_environment()
    assert not {"OPENAI_API_KEY", "HF_TOKEN", "ANTHROPIC_API_KEY"} & set(env)
    assert env["LLMBOOK_PROFILE"] == "offline" and env["HF_HUB_OFFLINE"] == "1"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT / "tests" / "hermetic")


HERMETIC_PROBE = """
import socket
with socket.socket() as listener:
    listener.bind(("127.0.0.1", 0)); listener.listen()
    socket.create_connection(listener.getsockname(), timeout=2).close()
    print("loopback ok")
try:
    socket.create_connection(("192.0.2.1", 443), timeout=2)
except OSError as error:
    print("refused:", error)
try:
    socket.getaddrinfo("huggingface.co", 443)
except OSError as error:
    print("refused:", error)
"""


def test_hermetic_run_refuses_every_connection_beyond_loopback(book):
    env = {**os.environ, **book.hermetic_environment()}
    result = subprocess.run([sys.executable, "-c", HERMETIC_PROBE], capture_output=True, text=True, env=env, timeout=60)
    lines = result.stdout.splitlines()
    assert lines[0] == "loopback ok", result.stderr
    assert "'192.0.2.1' refused" in lines[1] and "'huggingface.co' refused" in lines[2]


def test_this_test_process_is_hermetic_too():
    if os.environ.get("LLMBOOK_HERMETIC") != "1":
        pytest.skip("run through `python3 book.py test`, which makes every process hermetic")
    with pytest.raises(OSError, match="hermetic"):
        socket.create_connection(("192.0.2.1", 443), timeout=2)


# ---- conda and the pins -----------------------------------------------------------------------

def test_conda_environment_installs_the_pins_and_the_shared_package():
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    python = next(dep for dep in env["dependencies"] if isinstance(dep, str) and dep.startswith("python="))
    assert tuple(int(part) for part in python.split("=")[1].split(".")) in ((3, 11), (3, 12), (3, 13))
    pip_section = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    assert "-r requirements.txt" in pip_section
    assert any(line.split("#")[0].strip() == "-e ." for line in pip_section)  # notebooks import llmbook
    # llama-cpp-python and the --no-deps packages need steps pip's requirement lines cannot express.
    assert not any("llama-cpp-python" in line or "requirements-nodeps" in line for line in pip_section)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python tools/llama_build.py" in readme and "pip install --no-deps -r requirements-nodeps.txt" in readme


def test_every_pin_is_exact_and_named_once():
    names = [name for file in ("requirements.txt", "requirements-llama.txt", "requirements-nodeps.txt")
             for name in read_pins(ROOT / file)]
    assert len(names) == len(set(names))
    assert all("==" in spec for spec in requirement_pins().values())
