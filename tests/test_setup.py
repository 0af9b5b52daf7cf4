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

from llmbook.pins import PIN_FILES, PinError, parse_pin, pinned_version, read_pins, requirement_pins
from tools import llama_build
from tools import hermetic
from tools.run_notebooks import CHAPTERS, LLAMA_CHAPTERS, all_notebooks, chapter_notebooks

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
    # The same inputs name the same folder in another process too (a later book.py run reuses the wheel).
    here = llama_build.wheel_folder("0.3.36", amx, gcc12, tmp_path)
    there = subprocess.run(
        [sys.executable, "-c", "import sys; from tools import llama_build; "
         f"print(llama_build.wheel_folder('0.3.36', {amx!r}, {gcc12!r}, __import__('pathlib').Path({str(tmp_path)!r})))"],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=60).stdout.strip()
    assert Path(there) == here


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


# ---- llama.cpp on an NVIDIA GPU (Colab's T4): the steps and their order are tests/test_llama_build.py ----

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


def test_this_test_process_is_hermetic_however_it_was_started():
    # the top-level conftest.py seals a bare `pytest` too: no caller credentials, only loopback (the
    # profile it sets may be changed by a test, e.g. a rehearsal of the cpu profile, so it is not asserted).
    assert not [name for name in os.environ if hermetic.SECRET_NAME.search(name)]
    with pytest.raises(OSError, match="hermetic"):
        socket.create_connection(("192.0.2.1", 443), timeout=2)
    # every process this run starts (a notebook's kernel, a subprocess check) inherits the guard
    child = subprocess.run([sys.executable, "-c", HERMETIC_PROBE], capture_output=True, text=True, timeout=60)
    assert "'192.0.2.1' refused" in child.stdout, child.stderr


PLANTED_KEY_PROBE = """
import os, socket, sys
sys.path.insert(0, {chapter05!r}); sys.path.insert(0, {chapter07!r})
def test_probe(monkeypatch):
    assert "OPENAI_API_KEY" not in os.environ and "HF_TOKEN" not in os.environ
    from topic_labelers import choose_labeller
    from react_agent_tools import openai_ready
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set-again-by-a-notebook")  # offline still never calls OpenAI
    assert choose_labeller() == "llama.cpp" and openai_ready() is False
    for host in ("api.openai.com", "192.0.2.1"):
        try:
            socket.create_connection((host, 443), timeout=2)
        except OSError as error:
            assert "hermetic" in str(error)
"""


def test_a_bare_pytest_with_a_planted_key_stays_offline(tmp_path):
    """`OPENAI_API_KEY=sk-planted pytest ...` run directly: the key is gone, offline never picks OpenAI,
    and the only attempts beyond loopback (the probe's own) are refused and listed."""
    probe = ROOT / "tests" / f"test_zz_probe_{os.getpid()}.py"
    probe.write_text(PLANTED_KEY_PROBE.format(chapter05=str(ROOT / "chapter05"), chapter07=str(ROOT / "chapter07")))
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "LLMBOOK_HERMETIC")}
    env.update(OPENAI_API_KEY="sk-planted", HF_TOKEN="hf_planted", LLMBOOK_PROFILE="gpu")
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(probe)],
                                capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    finally:
        probe.unlink()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "caller's credentials removed: HF_TOKEN, OPENAI_API_KEY" in result.stdout
    assert "hermetic: 2 attempt(s) beyond loopback refused" in result.stdout, result.stdout[-2000:]
    assert "'api.openai.com' refused" in result.stdout and "'192.0.2.1' refused" in result.stdout


# ---- book.py's command line ---------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "colab", "passed_on"), [
    (["test", "--co"], False, ["--co"]),  # pytest's collect-only, not a prefix of --colab
    (["test", "--col"], False, ["--col"]),
    (["test", "--colab"], True, []),
    (["test", "--colab", "--chapters", "1"], True, ["--chapters", "1"]),
    (["test", "-k", "profiles"], False, ["-k", "profiles"]),
])
def test_options_are_never_matched_by_a_prefix(book, argv, colab, passed_on):
    args, rest = book.parse_args(argv)
    assert (args.colab, rest) == (colab, passed_on)


def test_run_refuses_arguments_it_does_not_know(book, capsys):
    with pytest.raises(SystemExit):
        book.parse_args(["run", "chapter01", "--co"])
    assert "unrecognized arguments: --co" in capsys.readouterr().err


def test_the_default_test_command_runs_the_unit_tests_and_every_notebook(book, monkeypatch):
    monkeypatch.setattr(book, "test_workers", lambda: 1)
    command = book.pytest_command(["--co"])
    notebooks = [str(path.relative_to(ROOT)) for path in all_notebooks()]
    assert command[1:] == ["-m", "pytest", "tests", *notebooks, "--nbmake", "--co"]
    assert len(notebooks) >= len(CHAPTERS)


def test_the_whole_suite_runs_in_the_processes_the_machine_has_room_for(book, monkeypatch):
    monkeypatch.setattr(book, "test_workers", lambda: 2)
    assert book.pytest_command([])[-7:] == ["--nbmake", "-n", "2", "--dist", "load", "--maxschedchunk", "1"]
    # the user's own worker count wins; named paths run in one process
    assert "--dist" not in book.pytest_command(["-n", "3"]) and book.pytest_command(["-n", "3"])[-2:] == ["-n", "3"]
    assert "--dist" not in book.pytest_command(["--numprocesses=4"])
    assert "-n" not in book.pytest_command(["tests/test_profiles.py"])


@pytest.mark.parametrize(("cpus", "memory_gib", "workers"), [
    (2, 23.0, 2),   # this kind of machine: two cores, plenty of memory
    (16, 64.0, 2),  # more cores do not mean more processes: two notebooks already fill two cores
    (2, 7.0, 1),    # a small CI runner: two notebooks at once could run out of memory
    (1, 32.0, 1),
    (4, 0, 1),      # memory unknown (Windows): one process
])
def test_test_workers_follow_cores_and_memory(book, cpus, memory_gib, workers):
    assert book.test_workers(cpus, memory_gib) == workers


@pytest.mark.parametrize("argv", [["tests/test_profiles.py"], ["tests/test_profiles.py::test_unknown_profile", "-x"],
                                  ["chapter03/chapter03_looking_inside_llms.ipynb"]])
def test_paths_named_replace_the_default_ones(book, argv):
    assert book.pytest_command(argv)[1:] == ["-m", "pytest", "--nbmake", *argv]


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
    pins = requirement_pins()  # raises PinError on a loose, bare, duplicated or doubly-filed pin
    assert len(pins) >= 60
    assert all(parse_pin(spec)[0] == name for name, spec in pins.items())
    assert "pyyaml" in pins  # this file imports yaml


@pytest.fixture
def pin_files(tmp_path):
    """A copy of the three requirement files to plant mistakes in."""
    for name in PIN_FILES:
        (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("planted", "message"), [
    ("numpy>=1.0", "'numpy>=1.0' is not an exact pin: write it as numpy==<version>"),
    ("requests", "'requests' is not an exact pin"),
    ("numpy==2.*", "'numpy==2.\\*' is not an exact pin"),
    ("numpy==2.4.6 ; python_version < '3.12'", None),  # a marker is allowed: still one exact version
    ("Torch==2.14.1", "torch is pinned twice"),
    ("numpy = = 2", "is not a valid requirement"),
])
def test_the_pin_check_fails_on_a_planted_mistake(pin_files, planted, message):
    path = pin_files / "requirements.txt"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("numpy==")]
    path.write_text("\n".join([*lines, planted]) + "\n", encoding="utf-8")
    if message is None:
        assert requirement_pins(pin_files)["numpy"] == planted
        return
    with pytest.raises(PinError, match=message):
        requirement_pins(pin_files)


def test_a_package_pinned_in_two_files_is_an_error(pin_files):
    with (pin_files / "requirements-nodeps.txt").open("a", encoding="utf-8") as file:
        file.write("gensim==4.4.0\n")
    with pytest.raises(PinError, match="gensim is pinned in two requirement files"):
        requirement_pins(pin_files)


SHARE = str(max(1, (os.cpu_count() or 1) // 2))


@pytest.mark.parametrize(("workers", "preset", "expected"), [
    ("2", None, [SHARE, SHARE]),    # two workers: each gets half the cores
    ("1", None, ["None", "None"]),  # one process: the libraries decide, as without xdist
    ("2", "3", ["3", SHARE]),       # a value the caller set wins
])
def test_each_xdist_worker_gets_its_share_of_the_cores(workers, preset, expected):
    # Two workers' notebooks at a thread per core each ran chapter 3 over ten times slower; the top-level
    # conftest gives a worker (and the kernels it starts) cores / workers threads.
    code = ("import os, sys; sys.path.insert(0, '.'); import conftest; "
            "print(os.environ.get('OMP_NUM_THREADS'), os.environ.get('NUMBA_NUM_THREADS'))")
    env = {key: value for key, value in os.environ.items() if not key.endswith("_NUM_THREADS")}
    env["PYTEST_XDIST_WORKER_COUNT"] = workers
    if preset:
        env["OMP_NUM_THREADS"] = preset
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == expected
