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

With an NVIDIA GPU (``nvidia-smi`` lists one, e.g. Colab's T4) the GPU build is tried first:

1. llama-cpp-python's own CUDA wheel index (https://abetlen.github.io/llama-cpp-python/whl/cu1XX;
   its CUDA wheels are tagged ``py3-none`` since mid-2026, so they serve Python 3.13 too), taken only
   if ``llama_cpp.llama_supports_gpu_offload()`` is then True;
2. else a CUDA build from source for this GPU's architecture only (``-DGGML_CUDA=on
   -DCMAKE_CUDA_ARCHITECTURES=75`` on a T4), with its progress printed;
3. else the CPU build, and the chapters load the 4-bit GGUF instead of the fp16 one.

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


CUDA_WHEEL_INDEX = "https://abetlen.github.io/llama-cpp-python/whl/{tag}"
# The CUDA toolkits that index publishes wheels for, newest first within each major version.
CUDA_WHEEL_TAGS = {12: "cu125", 13: "cu130"}


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


def cuda_toolkit_major() -> int | None:
    """The CUDA toolkit's major version from ``nvcc --version`` (its libraries are what a CUDA wheel loads)."""
    nvcc = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if Path("/usr/local/cuda/bin/nvcc").exists() else None)
    if nvcc is None:
        return None
    try:
        result = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"release (\d+)\.(\d+)", result.stdout)
    return int(match[1]) if match else None


def cuda_wheel_index(toolkit_major: int | None) -> str | None:
    tag = CUDA_WHEEL_TAGS.get(toolkit_major or 0)
    return CUDA_WHEEL_INDEX.format(tag=tag) if tag else None


def cuda_cmake_args(compute_capability: str) -> list[str]:
    """CUDA for this GPU's architecture only: one architecture compiles several times faster than all."""
    return ["-DGGML_CUDA=on", f"-DCMAKE_CUDA_ARCHITECTURES={compute_capability}"]


def find_compiler() -> str | None:
    """The C++ compiler CMake will use, with its version (``None`` when there is none that runs)."""
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


def wheel_folder(version: str, args: list[str], compiler: str, cache: Path) -> Path:
    """Where the wheel built with exactly these inputs lives (one folder per distinct build)."""
    key = hashlib.sha256("\n".join([version, platform.machine(), compiler, *args]).encode()).hexdigest()[:16]
    return cache / f"{PACKAGE}-{version}-{key}"


def default_cache() -> Path:
    return cache_dir() / "wheels"


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


def install(python: str = sys.executable, cache: Path | None = None) -> str:
    """Install llama-cpp-python into ``python``: the GPU version where an NVIDIA GPU is listed (see the
    module docstring), else (or when that fails) a CPU build made once for this machine.

    Returns what was installed; raises LlamaBuildError with the reason and the fix.
    """
    capability = nvidia_compute_capability()
    if capability:
        try:
            return install_for_gpu(python, capability, cache)
        except LlamaBuildError as error:
            say(f"沒有可用 GPU 的版本，改裝只用 CPU 的版本；第 5、7 章會改載入 4 位元的 GGUF。原因：{error}"
                " / no GPU build; installing the CPU build, chapters 5 and 7 load the 4-bit GGUF")
    return str(install_build(python, cmake_args(), cache))


def install_for_gpu(python: str, capability: str, cache: Path | None = None) -> str:
    """The prebuilt CUDA wheel when the index has one that offloads here, else a CUDA build for this GPU."""
    version = pinned_version(PACKAGE)
    index = cuda_wheel_index(cuda_toolkit_major())
    if index:
        try:
            pip(python, "install", "--disable-pip-version-check", "--only-binary=:all:", "--no-deps",
                "--force-reinstall", "--extra-index-url", index, f"{PACKAGE}=={version}")
            install_dependencies(python)
        except subprocess.CalledProcessError:
            say(f"{index} has no {PACKAGE} {version} wheel that installs here; building with CUDA from source")
        else:
            if gpu_offload_supported(python):
                say(f"installed the prebuilt CUDA wheel from {index}; GPU offload works")
                return f"{PACKAGE}=={version} ({index})"
            say("the prebuilt CUDA wheel cannot offload to this GPU; building with CUDA from source")
    wheel = install_build(python, cmake_args() + cuda_cmake_args(capability), cache)
    if not gpu_offload_supported(python):
        raise LlamaBuildError(f"{wheel.name} was built with CUDA, but llama_supports_gpu_offload() is False")
    return str(wheel)


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
        print(install(options.python))
    except LlamaBuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
