"""Build and install llama-cpp-python with CPU flags that are safe on every x86-64 host.

    python tools/llama_build.py [--python PATH]     build (or reuse) the wheel, install it into PATH

Why a step of its own (chapters 5 and 7 use llama.cpp):

* llama-cpp-python publishes no wheel on PyPI; pip builds the sdist with llama.cpp's default
  ``GGML_NATIVE=ON`` (``-march=native``). On a CPU with AMX (recent Xeons) that build compiles
  llama.cpp's AMX kernels, and a GCC 12 build of them crashes on the first decode of every
  quantized GGUF (Q4_0, Q4_1, Q8_0; llama.cpp issue #20824). We build with ``GGML_NATIVE=OFF``,
  switch on each instruction set this CPU reports (AVX2, AVX-512 …) explicitly, and keep AMX off:
  the AVX2/AVX-512 kernels and llama.cpp's weight repacking stay, only the AMX buffer type goes.
* pip caches a built wheel by its source archive alone, not by ``CMAKE_ARGS`` (pypa/pip#11164):
  a wheel built earlier with other flags would come back from ``~/.cache/pip``. We build with
  ``--no-cache-dir`` into a folder of our own whose name is derived from the version, the flags
  and the compiler, and install that file, so a changed flag or compiler means a new build.
* When the build cannot run (no C++ compiler), everything else is already installed and the
  chapters without llama.cpp still run; the error says what is missing.

In a notebook's set-up cell (``--prebuilt``, on Colab) and wherever ``nvidia-smi`` lists a GPU, the steps
are, in this order, each printing what it does and how long it took:

a. the prebuilt CUDA wheel from llama-cpp-python's own index (``whl/cu1XX``), for the CUDA version the
   driver reports (``nvidia-smi``'s "CUDA Version"), else ``torch.version.cuda`` -- never ``nvcc``, which a
   runtime may lack; any version in ``TESTED_RANGE``, so a release without CUDA wheels does not fall
   through to a build; kept only if ``llama_cpp.llama_supports_gpu_offload()`` is then True;
b. else the index's prebuilt CPU wheel (``whl/cpu``, built with ``GGML_NATIVE=off``: no AMX, no
   ``-march=native``), in seconds; the chapters then load the 4-bit GGUF, and the estimate is printed;
c. a CUDA build from source for this GPU's architecture only when the reader asks for it
   (``LLMBOOK_LLAMA_CUDA_BUILD=1``; its measured duration is stated before it starts);
c is opt-in, so it comes after a and instead of b (and b follows a c that cannot offload); when the index
cannot be reached (or has no wheel in the range), the CPU build from source.

Decision table (``tests/test_llama_build.py`` has one test per row):

| GPU listed | CUDA wheel in range | it offloads | LLMBOOK_LLAMA_CUDA_BUILD | --prebuilt | installs |
|---|---|---|---|---|---|
| no  | -   | -   | -   | no  | CPU build from source (book.py on a laptop) |
| no  | -   | -   | -   | yes | b: index CPU wheel; none there -> CPU build from source |
| yes | yes | yes | -   | any | a: CUDA wheel |
| yes | yes | no  | unset | any | b (after a) |
| yes | no / CUDA version unknown | - | unset | any | b |
| yes | no  | -   | 1   | any | c: CUDA build; if it offloads, kept |
| yes | no  | -   | 1, built but no offload | any | b (after c) |
| yes | no  | -   | unset, and no CPU wheel | any | CPU build from source |

``LLMBOOK_LLAMA_CMAKE_ARGS`` adds CMake options. Standard library only: it runs before anything
is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from llmbook.pins import pinned_version, read_pins  # noqa: E402  (after the path set-up above)
from llmbook.profiles import cache_dir  # noqa: E402  (standard library only)

PACKAGE = "llama-cpp-python"
EXTRA_ARGS_VAR = "LLMBOOK_LLAMA_CMAKE_ARGS"
# x86 instruction sets llama.cpp can target -> the /proc/cpuinfo flags each one needs.
X86_OPTIONS = (
    ("GGML_SSE42", ("sse4_2",)),
    ("GGML_AVX", ("avx",)),
    ("GGML_AVX2", ("avx2",)),
    ("GGML_FMA", ("fma",)),
    ("GGML_F16C", ("f16c",)),
    ("GGML_BMI2", ("bmi2",)),
    ("GGML_AVX_VNNI", ("avx_vnni",)),
    ("GGML_AVX512", ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")),
    ("GGML_AVX512_VBMI", ("avx512vbmi",)),
    ("GGML_AVX512_VNNI", ("avx512_vnni",)),
    ("GGML_AVX512_BF16", ("avx512_bf16",)),
)
# Never compiled in: GCC 12 builds of these kernels crash (see the module docstring).
AMX_OPTIONS = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")


class LlamaBuildError(RuntimeError):
    """llama-cpp-python could not be built or installed; the message says why and what to do."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The instruction-set flags of this CPU as Linux reports them (empty elsewhere)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cmake_args(machine: str | None = None, flags: set[str] | None = None, system: str | None = None) -> list[str]:
    """The CMake options for this machine: explicit x86 instruction sets, no AMX, no -march=native.

    On other machines (Apple Silicon, ARM Linux, Windows) llama.cpp's defaults stay: its AMX code
    is x86-only, and MSVC never compiles it.
    """
    machine = (machine or platform.machine()).lower()
    system = system or platform.system()
    args: list[str] = []
    if machine in ("x86_64", "amd64") and system == "Linux":
        flags = cpu_flags() if flags is None else flags
        args.append("-DGGML_NATIVE=OFF")
        for option, needs in X86_OPTIONS:
            args.append(f"-D{option}={'ON' if set(needs) <= flags else 'OFF'}")
        args += [f"-D{option}=OFF" for option in AMX_OPTIONS]
    return args + shlex.split(os.environ.get(EXTRA_ARGS_VAR, ""))


# llama-cpp-python's own PEP 503 index: whl/cpu and one folder per CUDA toolkit it builds for
# (its workflow .github/workflows/generate-index-from-release.yaml). LLMBOOK_LLAMA_WHEEL_INDEX points
# elsewhere (a mirror; the tests' index on loopback).
WHEEL_INDEX_VAR = "LLMBOOK_LLAMA_WHEEL_INDEX"
WHEEL_INDEX = "https://abetlen.github.io/llama-cpp-python/whl"
# The CUDA toolkits that index publishes wheels for (build-wheels-cuda.yaml: 12.1.1 ... 12.5.1, 13.0.2, 13.2.1).
CUDA_WHEEL_TAGS = {(12, 1): "cu121", (12, 2): "cu122", (12, 3): "cu123", (12, 4): "cu124", (12, 5): "cu125",
                   (13, 0): "cu130", (13, 2): "cu132"}
# Prebuilt wheels of any version in this range are accepted: 0.3.34 and 0.3.35 have CUDA wheels on the index
# (tags v0.3.34-cu1XX, v0.3.35-cu1XX), and their changelog from 0.3.34 to our pin changes only llama.cpp's
# revision and fixes (no API the chapters use); our pin is the upper bound.
TESTED_LOWER = "0.3.34"
CUDA_BUILD_VAR = "LLMBOOK_LLAMA_CUDA_BUILD"
# Stated where the CPU wheel is chosen on a GPU runtime (benchmarks/results/t4-estimates.md).
CPU_ONLY_ESTIMATE = ("只用 CPU 時，第 5 章替約 150 個主題命名估計約 135 分鐘、第 7 章整本約 86 分鐘"
                     "（q4 檔；估算，不是實測：benchmarks/results/t4-estimates.md）")


def tested_range() -> str:
    return f">={TESTED_LOWER},<={pinned_version(PACKAGE)}"


def wheel_index(tag: str) -> str:
    return f"{os.environ.get(WHEEL_INDEX_VAR) or WHEEL_INDEX}".rstrip("/") + f"/{tag}"


def nvidia_compute_capability() -> str | None:
    """The first NVIDIA GPU's compute capability without the dot ("75" on a T4); None without one."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        result = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"\s*(\d+)\.(\d+)", result.stdout) if result.returncode == 0 else None
    return f"{match[1]}{match[2]}" if match else None


def nvidia_smi_cuda_version() -> tuple[int, int] | None:
    """The CUDA version the driver supports, from ``nvidia-smi``'s header ("CUDA Version: 12.4")."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        result = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", result.stdout) if result.returncode == 0 else None
    return (int(match[1]), int(match[2])) if match else None


def torch_cuda_version(python: str) -> tuple[int, int] | None:
    """``torch.version.cuda`` of the interpreter we install into (None without torch or without CUDA)."""
    probe = "import torch; print(torch.version.cuda or '')"
    try:
        result = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"\s*(\d+)\.(\d+)", result.stdout) if result.returncode == 0 else None
    return (int(match[1]), int(match[2])) if match else None


def cuda_version(python: str) -> tuple[tuple[int, int] | None, str]:
    """The runtime's CUDA version and where it was read: the driver first, then torch."""
    version = nvidia_smi_cuda_version()
    if version:
        return version, "nvidia-smi"
    version = torch_cuda_version(python)
    return (version, "torch.version.cuda") if version else (None, "")


def cuda_wheel_tag(version: tuple[int, int] | None) -> str | None:
    """The index folder for this CUDA version: the newest toolkit of the same major version that is not
    newer than it (a 12.4 driver runs a cu124 wheel; 12.8 runs cu125; 13.1 runs cu130)."""
    if not version:
        return None
    fitting = [key for key in CUDA_WHEEL_TAGS if key[0] == version[0] and key <= version]
    return CUDA_WHEEL_TAGS[max(fitting)] if fitting else None


def cuda_cmake_args(compute_capability: str) -> list[str]:
    """CUDA for this GPU's architecture only: one architecture compiles several times faster than all."""
    return ["-DGGML_CUDA=on", f"-DCMAKE_CUDA_ARCHITECTURES={compute_capability}"]


def find_compiler() -> str | None:
    """The C++ compiler CMake will use, with its version (``None`` when there is none that runs)."""
    if platform.system() == "Windows" and not os.environ.get("CXX"):
        found = msvc()
        if found:
            return found
    for candidate in filter(None, (os.environ.get("CXX"), "c++", "g++", "clang++")):
        path = shutil.which(candidate.split()[0])
        if not path:
            if os.environ.get("CXX") == candidate:
                return None  # CMake would use $CXX, and it is not there
            continue
        try:
            result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if result.returncode != 0 or not result.stdout.strip():
            return None
        return f"{path}: {result.stdout.splitlines()[0].strip()}"
    return None


def msvc() -> str | None:
    """Visual Studio's C++ tools as CMake finds them on Windows: through the installer's vswhere.exe,
    not PATH (cl.exe is on PATH only in a Developer Command Prompt)."""
    vswhere = Path(os.environ.get("ProgramFiles(x86)", r"C:\Program Files (x86)"),
                   "Microsoft Visual Studio", "Installer", "vswhere.exe")
    if not vswhere.exists():
        return None
    try:
        result = subprocess.run([str(vswhere), "-latest", "-products", "*", "-requires",
                                 "Microsoft.VisualStudio.Component.VC.Tools.x86.x64", "-property", "displayName"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    name = result.stdout.strip().splitlines()[0] if result.returncode == 0 and result.stdout.strip() else ""
    return f"MSVC ({name})" if name else None


def wheel_folder(version: str, args: list[str], compiler: str, cache: Path) -> Path:
    """Where the wheel built with exactly these inputs lives (one folder per distinct build)."""
    key = hashlib.sha256("\n".join([version, platform.machine(), compiler, *args]).encode()).hexdigest()[:16]
    return cache / f"{PACKAGE}-{version}-{key}"


# Where built wheels are kept, if not in the cache's wheels/ folder: the Colab tier points it at an
# empty folder to time a cold set-up (``python -m tools.colab_tier --cold-llama``).
WHEEL_CACHE_VAR = "LLMBOOK_WHEEL_CACHE"


def default_cache() -> Path:
    return Path(os.environ[WHEEL_CACHE_VAR]) if os.environ.get(WHEEL_CACHE_VAR) else cache_dir() / "wheels"


def say(message: str) -> None:
    print(f"[llama_build] {message}", flush=True)


def pip(python: str, *args: str, env: dict[str, str] | None = None) -> None:
    command = [python, "-m", "pip", *args]
    say(" ".join(command))
    result = subprocess.run(command, env=env)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, command)


# CMake's progress: "[ 42%]" from Makefiles, "[123/456]" from Ninja (what scikit-build-core uses when it can).
PROGRESS = re.compile(r"\[\s*(\d+)%\]|\[(\d+)/(\d+)\]")


def progress_percent(line: str) -> int | None:
    match = PROGRESS.search(line)
    if not match:
        return None
    return int(match[1]) if match[1] else int(match[2]) * 100 // max(int(match[3]), 1)


def pip_with_progress(python: str, *args: str, env: dict[str, str] | None = None, step: int = 5) -> None:
    """Run a verbose pip build but print only CMake's progress (every ``step`` %) and the elapsed time;
    on failure print the last 60 lines, where the compiler's error is."""
    import collections
    import time

    command = [python, "-m", "pip", "-v", *args]
    say(" ".join(command))
    started, shown, tail = time.monotonic(), -step, collections.deque(maxlen=60)
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace") as process:
        for line in process.stdout:
            tail.append(line.rstrip())
            percent = progress_percent(line)
            if percent is not None and percent >= shown + step:
                shown = percent
                say(f"{shown:3d}% ({(time.monotonic() - started) / 60:.1f} min)")
    if process.returncode != 0:
        print("\n".join(tail), flush=True)
        raise subprocess.CalledProcessError(process.returncode, command)
    say(f"built in {(time.monotonic() - started) / 60:.1f} min")


def download_sdist(python: str, version: str, folder: Path) -> Path:
    """The llama-cpp-python source archive, through pip's HTTP cache (the set-up also reads the
    vocabulary files of llama.cpp from it: tools/offline_assets.py)."""
    pip(python, "download", "--quiet", "--no-deps", "--no-binary", ":all:", f"{PACKAGE}=={version}", "-d", str(folder))
    (sdist,) = Path(folder).glob("llama_cpp_python-*.tar.gz")
    return sdist


# Stated where a build starts; the figures and how they were taken: benchmarks/results/llama-cpp-build.md.
BUILD_DURATIONS = {
    "cpu": "5-7 minutes on 2 cores, measured",
    "cuda": "for one GPU architecture: 63 minutes on 2 cores that other jobs were using, measured once; "
            "likely less on idle cores, not measured",
}


def build_wheel(python: str, version: str, args: list[str], target: Path) -> Path:
    """Build the wheel from the sdist into ``target`` (a temporary sibling until it is complete)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        # The sdist comes through pip's HTTP cache; the build itself must not touch pip's wheel cache.
        sdist = download_sdist(python, version, staging / "sdist")
        env = {**os.environ, "CMAKE_ARGS": " ".join(args)}
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        duration = BUILD_DURATIONS["cuda" if "-DGGML_CUDA=on" in args else "cpu"]
        say(f"building {PACKAGE} {version} from source with CMAKE_ARGS={env['CMAKE_ARGS']!r} "
            f"({duration}; only once per version, flags and compiler)")
        pip_with_progress(python, "wheel", "--no-deps", "--no-cache-dir", "-w", str(staging / "wheel"), str(sdist), env=env)
        (wheel,) = (staging / "wheel").glob("*.whl")
        if target.exists():
            shutil.rmtree(target)
        (staging / "wheel").rename(target)
        return target / wheel.name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class Step:
    """Say what a step does, then how long it took (the set-up cell's reader sees both)."""

    def __init__(self, name: str, what: str):
        self.name, self.what = name, what

    def __enter__(self):
        import time

        self.started = time.monotonic()
        say(f"步驟 {self.name}：{self.what}")
        return self

    def __exit__(self, *exc):
        import time

        seconds = time.monotonic() - self.started
        say(f"步驟 {self.name} 用了 {seconds:.1f} 秒 / step {self.name} took {seconds:.1f} s")
        return False


def install(python: str = sys.executable, cache: Path | None = None, prebuilt: bool = False) -> str:
    """Install llama-cpp-python into ``python`` (the steps and their order: the module docstring).

    Returns what was installed; raises LlamaBuildError with the reason and the fix.
    """
    capability = nvidia_compute_capability()
    if capability:
        installed = install_cuda_wheel(python) or install_cuda_build(python, capability, cache)
        if installed:
            return installed
    if capability or prebuilt:
        installed = install_cpu_wheel(python, gpu=bool(capability))
        if installed:
            return installed
    with Step("CPU", f"從原始碼編譯只用 CPU 的 {PACKAGE}（{BUILD_DURATIONS['cpu']}）"
                     f" / building the CPU version from source"):
        return str(install_build(python, cmake_args(), cache))


def install_from_index(python: str, tag: str) -> bool:
    """pip-install the newest wheel in the tested range from the index folder ``tag``; False when there is none."""
    try:
        pip(python, "install", "--disable-pip-version-check", "--only-binary=:all:", "--no-deps",
            "--force-reinstall", "--retries", "1", "--timeout", "30", "--index-url", wheel_index(tag),
            f"{PACKAGE}{tested_range()}")
    except subprocess.CalledProcessError:
        return False
    try:
        install_dependencies(python)
    except subprocess.CalledProcessError as error:
        raise LlamaBuildError(f"installing the dependencies of {PACKAGE} failed: {error}") from error
    return True


def install_cuda_wheel(python: str) -> str | None:
    """Step a: the prebuilt CUDA wheel for the runtime's CUDA version, kept only if it offloads."""
    version, source = cuda_version(python)
    tag = cuda_wheel_tag(version)
    where = f"CUDA {version[0]}.{version[1]}（{source}）" if version else "CUDA 版本不明"
    with Step("a", f"{where}：找預先編好的 CUDA 版 {PACKAGE}{tested_range()}"
                   f"（{wheel_index(tag) if tag else '索引裡沒有這個 CUDA 版本'}） / prebuilt CUDA wheel"):
        if tag is None:
            say(f"{where}：llama-cpp-python 的索引沒有這個 CUDA 版本的 wheel / no CUDA wheel index for it")
            return None
        if not install_from_index(python, tag):
            say(f"{wheel_index(tag)} 沒有可安裝的 {PACKAGE}{tested_range()} / no wheel there")
            return None
        if not gpu_offload_supported(python):
            say("這個 CUDA 版無法把模型放上 GPU（llama_supports_gpu_offload() 為 False），不採用"
                " / the CUDA wheel cannot offload here")
            return None
        say("已安裝預先編好的 CUDA 版，可以使用 GPU / installed the prebuilt CUDA wheel; GPU offload works")
        return f"{installed_version(python)} ({wheel_index(tag)})"


def install_cuda_build(python: str, capability: str, cache: Path | None = None) -> str | None:
    """Step c: a CUDA build from source, only when the reader asks for it (LLMBOOK_LLAMA_CUDA_BUILD=1)."""
    if os.environ.get(CUDA_BUILD_VAR, "").strip() != "1":
        say(f"不從原始碼編譯 CUDA 版（{BUILD_DURATIONS['cuda']}）；真的要編譯，請先執行 "
            f"`%env {CUDA_BUILD_VAR}=1` 再重新執行設定格 / no CUDA build from source unless {CUDA_BUILD_VAR}=1")
        return None
    with Step("c", f"從原始碼編譯 CUDA 版，只針對這張 GPU（compute capability {capability}；"
                   f"{BUILD_DURATIONS['cuda']}） / CUDA build from source"):
        wheel = install_build(python, cmake_args() + cuda_cmake_args(capability), cache)
        if not gpu_offload_supported(python):
            say(f"{wheel.name} 以 CUDA 編譯，但 llama_supports_gpu_offload() 為 False / built, but cannot offload")
            return None
        return str(wheel)


def install_cpu_wheel(python: str, gpu: bool) -> str | None:
    """Step b: the index's prebuilt CPU wheel (seconds instead of a 5-7 minute build)."""
    with Step("b", f"安裝 {wheel_index('cpu')} 預先編好的 CPU 版 {PACKAGE}{tested_range()} / prebuilt CPU wheel"):
        if not install_from_index(python, "cpu"):
            say(f"{wheel_index('cpu')} 連不上或沒有可安裝的 wheel，改從原始碼編譯 / no CPU wheel there; building from source")
            return None
    if gpu:
        say("llama.cpp 只能用 CPU：第 5、7 章會改載入 4 位元（q4）的 GGUF。" + CPU_ONLY_ESTIMATE
            + f"。要用 GPU，可以在 Colab 的密鑰設定 OPENAI_API_KEY（第 5 章），或執行 `%env {CUDA_BUILD_VAR}=1`"
            " 後重新執行設定格。 / llama.cpp runs on the CPU only: the chapters load the q4 GGUF")
    return f"{installed_version(python)} ({wheel_index('cpu')})"


def installed_version(python: str) -> str:
    """``llama-cpp-python==<version>`` as the interpreter sees it."""
    probe = f"import importlib.metadata as m; print(m.version({PACKAGE!r}))"
    result = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    return f"{PACKAGE}=={result.stdout.strip() or '?'}"


def gpu_offload_supported(python: str) -> bool:
    """Ask the installed llama_cpp in a child process (a broken CUDA library must not take us down)."""
    probe = "import llama_cpp, sys; sys.exit(0 if llama_cpp.llama_supports_gpu_offload() else 3)"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=300).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def install_dependencies(python: str) -> None:
    dependencies = [spec for name, spec in read_pins(ROOT / "requirements-llama.txt").items() if name != PACKAGE]
    pip(python, "install", "--disable-pip-version-check", *dependencies)


def install_build(python: str, args: list[str], cache: Path | None = None) -> Path:
    """Build llama-cpp-python with ``args`` once (or reuse that build) and install it into ``python``."""
    version = pinned_version(PACKAGE)
    compiler = find_compiler()
    if compiler is None:
        raise LlamaBuildError(
            f"{PACKAGE} 需要從原始碼編譯，但找不到可用的 C++ 編譯器（CXX={os.environ.get('CXX', '未設定')}）。"
            "請安裝編譯器後重新執行：Debian/Ubuntu `sudo apt install build-essential cmake`、"
            "macOS `xcode-select --install`、Windows 安裝 Visual Studio Build Tools（C++）。"
            f" / {PACKAGE} builds from source and no working C++ compiler was found: install one"
            " (e.g. `apt install build-essential cmake`) and run the command again."
        )
    folder = wheel_folder(version, args, compiler, cache or default_cache())
    wheels = sorted(folder.glob("*.whl"))
    if wheels:
        say(f"reusing {wheels[0]} (built earlier with the same version, flags and compiler)")
        wheel = wheels[0]
    else:
        say(f"compiler: {compiler}")
        try:
            wheel = build_wheel(python, version, args, folder)
        except subprocess.CalledProcessError as error:
            raise LlamaBuildError(
                f"{PACKAGE} {version} 編譯失敗（編譯器：{compiler}）；錯誤訊息在上面的輸出裡。"
                "常見原因：缺少 CMake 或 C++ 標準函式庫、記憶體不足。其他章節不受影響。"
                f" / building {PACKAGE} {version} failed (see the output above): {error}"
            ) from error
    try:
        install_dependencies(python)
        # --force-reinstall: a build with other flags (possibly the crashing one) may be installed already.
        pip(python, "install", "--disable-pip-version-check", "--no-deps", "--force-reinstall", str(wheel))
    except subprocess.CalledProcessError as error:
        raise LlamaBuildError(f"installing {wheel} failed: {error}") from error
    return wheel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="the interpreter to install into (default: this one)")
    parser.add_argument("--print-cmake-args", action="store_true", help="print the CMake options for this machine and stop")
    parser.add_argument("--prebuilt", action="store_true",
                        help="prefer llama-cpp-python's prebuilt CPU wheel to a build (the notebooks' set-up cells)")
    parser.add_argument("--cuda-arch", metavar="CC", help="build with CUDA for this compute capability (e.g. 75) without asking nvidia-smi")
    options = parser.parse_args()
    if options.print_cmake_args:
        print(" ".join(cmake_args() + (cuda_cmake_args(options.cuda_arch) if options.cuda_arch else [])))
        return 0
    if options.cuda_arch:  # a CUDA build where no GPU is listed (a build machine); no offload check
        try:
            print(install_build(options.python, cmake_args() + cuda_cmake_args(options.cuda_arch)))
        except LlamaBuildError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    try:
        print(install(options.python, prebuilt=options.prebuilt))
    except LlamaBuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
