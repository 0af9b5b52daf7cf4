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

``LLMBOOK_LLAMA_CMAKE_ARGS`` adds CMake options (e.g. ``-DGGML_CUDA=on`` for an NVIDIA GPU).
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from llmbook.pins import pinned_version, read_pins  # noqa: E402  (after the path set-up above)

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
    root = os.environ.get("LLMBOOK_CACHE") or Path.home() / ".cache" / "llmbook"
    return Path(root) / "wheels"


def say(message: str) -> None:
    print(f"[llama_build] {message}", flush=True)


def pip(python: str, *args: str, env: dict[str, str] | None = None) -> None:
    command = [python, "-m", "pip", *args]
    say(" ".join(command))
    result = subprocess.run(command, env=env)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, command)


def download_sdist(python: str, version: str, folder: Path) -> Path:
    """The llama-cpp-python source archive, through pip's HTTP cache (the set-up also reads the
    vocabulary files of llama.cpp from it: tools/offline_assets.py)."""
    pip(python, "download", "--quiet", "--no-deps", "--no-binary", ":all:", f"{PACKAGE}=={version}", "-d", str(folder))
    (sdist,) = Path(folder).glob("llama_cpp_python-*.tar.gz")
    return sdist


def build_wheel(python: str, version: str, args: list[str], target: Path) -> Path:
    """Build the wheel from the sdist into ``target`` (a temporary sibling until it is complete)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        # The sdist comes through pip's HTTP cache; the build itself must not touch pip's wheel cache.
        sdist = download_sdist(python, version, staging / "sdist")
        env = {**os.environ, "CMAKE_ARGS": " ".join(args)}
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        say(f"building {PACKAGE} {version} from source with CMAKE_ARGS={env['CMAKE_ARGS']!r} "
            "(5-7 minutes on 2 cores, measured: benchmarks/results/llama-cpp-build.md; only once per version, flags and compiler)")
        pip(python, "wheel", "--no-deps", "--no-cache-dir", "-w", str(staging / "wheel"), str(sdist), env=env)
        (wheel,) = (staging / "wheel").glob("*.whl")
        if target.exists():
            shutil.rmtree(target)
        (staging / "wheel").rename(target)
        return target / wheel.name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install(python: str = sys.executable, cache: Path | None = None) -> Path:
    """Build llama-cpp-python once for this machine (or reuse that build) and install it into ``python``.

    Returns the wheel installed; raises LlamaBuildError with the reason and the fix.
    """
    version = pinned_version(PACKAGE)
    args = cmake_args()
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
    dependencies = [spec for name, spec in read_pins(ROOT / "requirements-llama.txt").items() if name != PACKAGE]
    try:
        pip(python, "install", "--disable-pip-version-check", *dependencies)
        # --force-reinstall: a build with other flags (possibly the crashing one) may be installed already.
        pip(python, "install", "--disable-pip-version-check", "--no-deps", "--force-reinstall", str(wheel))
    except subprocess.CalledProcessError as error:
        raise LlamaBuildError(f"installing {wheel} failed: {error}") from error
    return wheel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="the interpreter to install into (default: this one)")
    parser.add_argument("--print-cmake-args", action="store_true", help="print the CMake options for this machine and stop")
    options = parser.parse_args()
    if options.print_cmake_args:
        print(" ".join(cmake_args()))
        return 0
    try:
        print(install(options.python))
    except LlamaBuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
