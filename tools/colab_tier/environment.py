"""The runtime Colab gives a reader, rebuilt here: a Python 3.13 virtual environment with Colab's
package versions (built once, cached), a fresh hard-link copy of it per chapter, the google.colab
stub inside it, and this repository already at the clone target."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from llmbook.pins import PIN_FILES, normalise, requirement_pins
from tools import notebooks
from tools.colab_tier.common import ROOT, SNAPSHOT, STUB, cache_root, run_logged, say
from tools.colab_tier.freeze import compare_versions, parse_freeze, parse_version, public_version, requirement_name

# Built from source by the set-up cell's own step; no metadata without a build, so not resolved here.
SOURCE_BUILT = ("llama-cpp-python",)
# What Colab's kernel itself runs on (always in the base environment, at Colab's versions), and the
# third-party modules colabtools' ``import google.colab`` loads at kernel start (the stub loads them too).
KERNEL_STACK = ("pip", "setuptools", "wheel", "ipykernel", "ipython", "jupyter-client", "jupyter-core",
                "nbclient", "nbformat", "ipywidgets", "requests", "anywidget", "httplib2", "numpy", "packaging",
                "pandas", "pexpect", "pillow", "psutil", "pyzmq", "seaborn", "traitlets")
# Colab's torch is the PyTorch index's +cu128 build with CUDA 12.8 libraries; PyPI (all this machine
# reaches) has the same torch version built for another CUDA, whose own libraries pip then picks.
CUDA_STACK = re.compile(r"^(nvidia-.*|cuda-.*)$")
PYENV_PYTHONS = Path.home() / ".pyenv" / "versions"
COLAB_PYTHON = (3, 13)


# --------------------------------------------------------------------------- what goes in

def requirement_names(root: Path = ROOT) -> list[str]:
    """The normalised names of every pin of the repository (the versions come from Colab's snapshot)."""
    return sorted(requirement_pins(root))


def offline_extras(root: Path = ROOT) -> list[str]:
    """Pins a Colab reader never installs but the offline profile reads files from (models, corpora,
    vocabularies): the requirement lines whose comment names the offline profile.
    The tier installs them with ``--no-deps`` after the set-up cell was measured."""
    extras = []
    for file in PIN_FILES:
        for line in (root / file).read_text(encoding="utf-8").splitlines():
            spec, _, comment = line.partition("#")
            spec = spec.strip()
            if "==" not in spec or comment.strip().startswith(("tests", "tooling")):
                continue
            if "offline" in comment:
                extras.append(spec)
    return extras


def base_key() -> str:
    """The base environment's cache key: the snapshot and the requirement *names* (not their versions)."""
    digest = hashlib.sha256(SNAPSHOT.read_bytes())
    digest.update("\n".join(requirement_names() + list(KERNEL_STACK)).encode())
    return digest.hexdigest()[:16]


def snapshot_constraints(snapshot: dict[str, str]) -> str:
    """A pip constraints file pinning every package of the snapshot that PyPI can serve by version."""
    return "\n".join(f"{name}=={public_version(version)}" for name, version in sorted(snapshot.items())
                     if not version.startswith("@") and not CUDA_STACK.match(name)) + "\n"


# --------------------------------------------------------------------------- the base environment

def find_python(explicit: str | None = None) -> Path:
    """A Python 3.13 interpreter: ``--python``, ``$LLMBOOK_COLAB_PYTHON``, or pyenv's newest 3.13."""
    pyenv = sorted(PYENV_PYTHONS.glob("3.13.*"), key=lambda path: parse_version(path.name) or parse_version("0"),
                   reverse=True)
    candidates = [explicit or os.environ.get("LLMBOOK_COLAB_PYTHON")] + [str(path / "bin" / "python3") for path in pyenv]
    for candidate in filter(None, candidates):
        try:
            result = run_logged([candidate, "-c", "import sys, venv, ensurepip; print(*sys.version_info[:3])"],
                                quiet=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and tuple(map(int, result.stdout.split()[:2])) == COLAB_PYTHON:
            return Path(candidate)
    raise SystemExit(
        "[colab-tier] 需要 Python 3.13（Colab 是 Ubuntu 22.04 上的 3.13.15），找不到。"
        "/ The Colab tier needs a"
        " Python 3.13 with venv and ensurepip (Colab runs 3.13.15 on Ubuntu 22.04) and found none. Install one,"
        " e.g. `pyenv install 3.13` (then it is found under ~/.pyenv/versions), or `apt install python3.13-venv`"
        " on a distribution that has it, or a Debian 13 \"trixie\" root made with `debootstrap trixie DIR`"
        " (python3, python3-venv, python3-dev); then pass it with --python PATH or $LLMBOOK_COLAB_PYTHON."
    )


def pip_report(python: Path, arguments: list, log: Path) -> list[dict] | None:
    """``pip install --dry-run --report`` of ``arguments``: the install items, None when pip fails."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        result = run_logged([python, "-m", "pip", "install", "--disable-pip-version-check", "--dry-run",
                             "--ignore-installed", "--quiet", "--report", report, *arguments], log)
        if result.returncode != 0 or not report.exists():
            return None
        return json.loads(report.read_text(encoding="utf-8"))["install"]


def dependencies_colab_has(python: Path, names: list[str], pins: dict[str, str], snapshot: dict[str, str],
                           log: Path) -> tuple[set[str], list[str]]:
    """The packages of the snapshot that our other requirements (those Colab lacks) depend on.

    Read from the metadata of our pinned versions (``--no-deps``: no resolution, nothing big
    downloaded), following dependencies that Colab lacks too, down to those it has.
    """
    found: set[str] = set()
    notes: list[str] = []
    seen: set[str] = set()
    todo = list(names)
    while todo:
        batch = [name for name in dict.fromkeys(todo) if name not in seen]
        todo = []
        if not batch:
            break
        seen.update(batch)
        items = pip_report(python, ["--no-deps", *[pins.get(name, name) for name in batch]], log)
        if items is None:  # one at a time, so one package without a wheel or sdist does not hide the rest
            items = []
            for name in batch:
                one = pip_report(python, ["--no-deps", pins.get(name, name)], log)
                if one is None:
                    notes.append(f"{name}: no metadata from PyPI for Python 3.13")
                items += one or []
        for item in items:
            for requirement in item["metadata"].get("requires_dist", []):
                dependency = requirement_name(requirement)
                if dependency is None:
                    continue
                if dependency in snapshot:
                    found.add(dependency)
                elif dependency not in seen:
                    todo.append(dependency)
    return found, notes


def base_packages(python: Path, snapshot: dict[str, str], work: Path, log: Path) -> tuple[dict[str, str], list[str]]:
    """Colab's versions of the packages our notebooks touch, and the notes on what differs.

    Roots: the requirements Colab has, the kernel stack, and the packages of the snapshot that our
    other requirements (which their set-up cells install) depend on. One resolution of those roots,
    constrained to the snapshot's versions, gives the closure: Colab's own packages complete, with
    pip's choice only where the snapshot cannot be served from PyPI (torch's CUDA libraries).
    """
    constraints = work / "colab-constraints.txt"
    constraints.write_text(snapshot_constraints(snapshot), encoding="utf-8")
    pins = requirement_pins()
    names = [name for name in sorted(pins) if name not in SOURCE_BUILT]
    others = sorted(n for n in names if n not in snapshot)
    needed, notes = dependencies_colab_has(python, others, pins, snapshot, log)
    roots = sorted({n for n in names if n in snapshot} | {normalise(n) for n in KERNEL_STACK} | needed)
    items = pip_report(python, ["-c", constraints, *roots], log)
    if items is None:
        raise SystemExit(f"[colab-tier] pip cannot resolve Colab's packages under the snapshot's versions; see {log}")
    packages = {normalise(item["metadata"]["name"]): item["metadata"]["version"] for item in items}
    differing = sorted(name for name in packages
                       if name in snapshot and compare_versions(snapshot[name], packages[name]))
    if differing:
        notes.append("PyPI's torch needs other CUDA libraries than Colab's +cu128 build: "
                     + ", ".join(f"{n} {snapshot[n]}→{packages[n]}" for n in differing))
    outside = sorted(name for name in packages if name not in snapshot)
    if outside:
        notes.append("not in the snapshot, needed by Colab's packages as PyPI serves them (pip's choice): "
                     + ", ".join(f"{n}=={packages[n]}" for n in outside))
    return packages, notes


def venv_python(env: Path) -> Path:
    return env / "bin" / "python"


def ensure_base(python_hint: str | None = None, rebuild: bool = False) -> Path:
    """The cached base environment (built here on first use); returns its folder."""
    base = cache_root() / f"base-{base_key()}"
    stamp = base / ".colab-tier.json"
    if stamp.exists() and not rebuild:
        install_stub(base)
        return base
    python = find_python(python_hint)
    snapshot = parse_freeze(SNAPSHOT.read_text(encoding="utf-8"))
    started = time.monotonic()
    staging = base.with_name(base.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    log = staging.with_suffix(".log")
    log.write_text("", encoding="utf-8")
    say(f"building the base environment {base} with {python} (log: {log})")
    if run_logged([python, "-m", "venv", staging], log).returncode != 0:
        raise SystemExit(f"[colab-tier] `{python} -m venv` failed; see {log}")
    py = venv_python(staging)
    pip_spec = [f"{n}=={public_version(snapshot[n])}" for n in ("pip", "setuptools", "wheel") if n in snapshot]
    if run_logged([py, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", *pip_spec], log).returncode:
        raise SystemExit(f"[colab-tier] installing Colab's pip failed; see {log}")
    packages, notes = base_packages(py, snapshot, staging.parent, log)
    specs = [f"{name}=={version}" for name, version in sorted(packages.items())]
    say(f"installing {len(specs)} packages at Colab's versions (--no-deps)")
    result = run_logged([py, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps", *specs], log)
    if result.returncode != 0:
        raise SystemExit(f"[colab-tier] installing the base packages failed; the end of pip's output:\n"
                         f"{result.stderr[-3000:]}\nfull log: {log}")
    check = run_logged([py, "-m", "pip", "check"], log)
    seconds = time.monotonic() - started
    info = {
        "built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(seconds),
        "python": run_logged([py, "-c", "import sys; print(sys.version.split()[0])"], quiet=True).stdout.strip(),
        "packages": packages,
        "notes": notes,
        "pip_check": check.stdout.strip().splitlines(),
    }
    (staging / ".colab-tier.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    shutil.rmtree(base, ignore_errors=True)
    staging.rename(base)
    shutil.move(str(log), base / "build.log")
    # pyvenv.cfg and the scripts name the folder they were created in: point them at the final one.
    relocate(base, staging)
    install_stub(base)
    say(f"base environment ready in {seconds:.0f} s: {len(packages)} packages")
    return base


def base_info(base: Path) -> dict:
    return json.loads((base / ".colab-tier.json").read_text(encoding="utf-8"))


def site_packages(env: Path) -> Path:
    (found,) = (env / "lib").glob("python3.*/site-packages")
    return found


def relocate(env: Path, old: Path) -> None:
    """Point a venv's scripts and pyvenv.cfg at ``env`` after it was moved or copied from ``old``.

    Each file is replaced by a new one (never edited in place), so a hard-linked copy never changes
    the files it shares with the base environment.
    """
    for path in [env / "pyvenv.cfg", *sorted((env / "bin").iterdir())]:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if str(old).encode() not in data[:100_000]:
            continue
        fresh = path.with_name(path.name + ".relocate")
        fresh.write_bytes(data.replace(str(old).encode(), str(env).encode()))
        shutil.copymode(path, fresh)
        fresh.replace(path)


def install_stub(env: Path) -> None:
    """Copy the google.colab stub and colab_kernel_launcher into the environment (new files, not edits)."""
    target = site_packages(env)
    for source in sorted(STUB.rglob("*.py")):
        destination = target / source.relative_to(STUB)
        if destination.exists() and destination.read_bytes() == source.read_bytes():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        fresh = destination.with_name(destination.name + ".new")
        shutil.copyfile(source, fresh)
        fresh.replace(destination)


# --------------------------------------------------------------------------- one chapter's copy

def fresh_copy(base: Path, target: Path) -> Path:
    """A hard-link copy of the base environment (pip replaces files, never writes into them)."""
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    run_logged(["cp", "-al", base, target], quiet=True, check=True)
    relocate(target, base)
    return target


def freeze(env: Path) -> dict[str, str]:
    """What ``pip freeze --all`` lists in the environment."""
    result = run_logged([venv_python(env), "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
                        quiet=True, check=True)
    return parse_freeze(result.stdout)


def distribution_modules(env: Path) -> dict[str, list[str]]:
    """Every installed distribution's top-level import names (from top_level.txt or its RECORD)."""
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        "for mod, dists in m.packages_distributions().items():\n"
        "    for d in dists: out.setdefault(d, []).append(mod)\n"
        "print(json.dumps(out))\n"
    )
    result = run_logged([venv_python(env), "-c", code], quiet=True, check=True)
    return {normalise(name): sorted(set(mods)) for name, mods in json.loads(result.stdout).items()}


def tree_state(env: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime) of every regular file: a hard-linked file written in place would change here."""
    state = {}
    for path in env.rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            state[str(path.relative_to(env))] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return state


# --------------------------------------------------------------------------- the repository at the clone target

def clone_dir() -> Path:
    """Where a set-up cell clones the repository on Colab (the notebook standard's COLAB_CLONE_DIR)."""
    return Path(notebooks.COLAB_CLONE_DIR)


def working_tree_files(root: Path = ROOT) -> list[str]:
    result = run_logged(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                        quiet=True, check=True, encoding="utf-8")
    return sorted({name for name in result.stdout.split("\0") if name and (root / name).is_file()})


def place_repository(target: Path) -> list[str]:
    """Copy this working tree (tracked + untracked, not ignored) to the clone target."""
    if target.exists():
        if not (target / ".colab-tier").exists():
            raise SystemExit(f"[colab-tier] {target} exists and was not made by the tier; move it away first")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / ".colab-tier").write_text("made by tools/colab_tier; removed when the run ends\n")
    files = working_tree_files()
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination)
    return files
