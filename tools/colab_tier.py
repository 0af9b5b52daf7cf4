"""The Colab tier: run every chapter's own set-up cell the way Colab would, then the notebook offline.

    python -m tools.colab_tier [--chapters 1 2 ...] [--write-results] [--keep] [--secret NAME=VALUE]
                               [--rebuild-base] [--timeout SECONDS] [--python PATH]

What it reproduces (Colab GPU runtime, snapshot ``tools/colab/pip-freeze.gpu.txt`` of
googlecolab/backend-info):

* Python 3.13: Colab has 3.13.15 on Ubuntu 22.04; the tier uses the nearest interpreter this
  machine has, pyenv's 3.13 (``--python`` or ``$LLMBOOK_COLAB_PYTHON`` picks another one).
* A base virtual environment with Colab's exact versions of every package in the snapshot that our
  requirement files name or that one of them depends on (computed with pip's resolver, constrained
  to the snapshot, then installed with ``--no-deps``), plus the Jupyter stack Colab's kernel runs on.
  Built once into ``~/.cache/llmbook/colab-tier/base-<key>`` (the key hashes the snapshot and the
  requirement *names*; the versions come from the snapshot), reused afterwards.
* ``google.colab`` importable (the stub in ``tools/colab/stub``) and imported when the kernel starts,
  through ``colab_kernel_launcher`` as on Colab; ``google.colab.userdata.get`` raises
  ``SecretNotFoundError`` unless a secret is given with ``--secret``.
* The repository already at the clone target (``COLAB_CLONE_DIR`` of tools/notebooks.py), as a copy of
  this working tree, so the set-up cell skips its clone the way it does on a re-run. Removed afterwards.

Per chapter, in a fresh hard-link copy of the base environment: a kernel runs the set-up cell (cell 1)
exactly as written, with PyPI reachable and ``LLMBOOK_PROFILE`` unset; then the guard of
tests/hermetic (only loopback) is switched on and the rest of the notebook runs under the offline
profile. Recorded: set-up time, packages upgraded/downgraded/added over Colab's set, pip's conflict
warnings, whether Colab would ask for a restart (a package the cell changed has a module that was
already imported when the cell started: the check of colabtools' ``google/colab/_pip.py``), whether
the set-up cell raised, pass/fail with the first error, notebook time.

Standard library only at import time: ``book.py`` can call ``main(argv)`` before anything is installed.
The notebooks themselves are driven by nbclient running in the base environment (``_drive``).
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from llmbook.pins import PIN_FILES, normalise, requirement_pins  # noqa: E402  (standard library only)
from llmbook.profiles import cache_dir  # noqa: E402  (standard library only)
from tools.hermetic import OFFLINE_ENV, SECRET_NAME  # noqa: E402  (standard library only)
from tools import console  # noqa: E402  (standard library only)

SNAPSHOT = ROOT / "tools" / "colab" / "pip-freeze.gpu.txt"
STUB = ROOT / "tools" / "colab" / "stub"
RESULTS = ROOT / "benchmarks" / "results" / "colab-tier.md"
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
CONFLICT_HEADER = "pip's dependency resolver does not currently take into account"


def say(message: str) -> None:
    console.say(message, "colab-tier")


def cache_root() -> Path:
    return cache_dir() / "colab-tier"


# --------------------------------------------------------------------------- parsing and reporting

def parse_freeze(text: str) -> dict[str, str]:
    """``{normalised name: version}`` of a ``pip freeze`` listing; ``name @ url`` lines map to the url."""
    packages = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not line or line.startswith("-"):
            continue
        if "==" in line:
            name, version = line.split("==", 1)
            packages[normalise(name.strip())] = version.strip()
        elif " @ " in line:
            name, url = line.split(" @ ", 1)
            packages[normalise(name.strip())] = "@ " + url.strip()
    return packages


def snapshot_commit(text: str) -> str | None:
    """The googlecolab/backend-info commit named in the snapshot's header."""
    found = re.search(r"commit ([0-9a-f]{40})", text)
    return found.group(1) if found else None


def public_version(version: str) -> str:
    """``2.11.0+cu128`` -> ``2.11.0``: PyPI carries the public version only (its torch wheel is a CUDA build)."""
    return version.split("+", 1)[0]


_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
                      r"(?:[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+.*)?$", re.I)


def version_key(version: str) -> tuple | None:
    """A sort key for a PEP 440 version (local part ignored); ``None`` when it is not one."""
    match = _VERSION.match(version.strip())
    if not match:
        return None
    release, pre, pre_n, post, dev = match.groups()
    numbers = [int(part) for part in release.split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    pre_rank = {"a": 0, "alpha": 0, "b": 1, "beta": 1}.get((pre or "").lower(), 2)
    # dev < pre-release < release < post-release
    pre_part = (pre_rank, int(pre_n or 0)) if pre else ((-1, 0) if dev is not None and post is None else (3, 0))
    post_part = int(post or 0) if post is not None else -1
    dev_part = int(dev or 0) if dev is not None else float("inf")
    return (tuple(numbers), pre_part, post_part, dev_part)


def compare_versions(old: str, new: str) -> int:
    """-1 if ``new`` is older than ``old``, 0 if the same public version, 1 if newer (or not comparable)."""
    if public_version(old) == public_version(new):
        return 0
    old_key, new_key = version_key(old), version_key(new)
    if old_key is None or new_key is None:
        return 1
    return (new_key > old_key) - (new_key < old_key)


@dataclass
class FreezeDiff:
    upgraded: list[tuple[str, str, str]] = field(default_factory=list)    # (name, before, after)
    downgraded: list[tuple[str, str, str]] = field(default_factory=list)  # (name, before, after)
    added: list[tuple[str, str]] = field(default_factory=list)            # (name, after)
    removed: list[tuple[str, str]] = field(default_factory=list)          # (name, before)

    def changed(self) -> list[str]:
        """Packages that were there before and now have another version."""
        return [name for name, *_ in self.upgraded + self.downgraded]


def diff_freeze(before: dict[str, str], after: dict[str, str]) -> FreezeDiff:
    """Classify what a set-up cell did to an environment, from ``pip freeze`` before and after."""
    diff = FreezeDiff()
    for name in sorted(set(before) | set(after)):
        if name not in after:
            diff.removed.append((name, before[name]))
        elif name not in before:
            diff.added.append((name, after[name]))
        else:
            order = compare_versions(before[name], after[name])
            if order > 0:
                diff.upgraded.append((name, before[name], after[name]))
            elif order < 0:
                diff.downgraded.append((name, before[name], after[name]))
    return diff


def parse_conflicts(output: str) -> list[str]:
    """pip's dependency-conflict lines ("X 1.0 requires Y<2, but you have Y 2.1 which is incompatible.")."""
    conflicts: list[str] = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if CONFLICT_HEADER not in line:
            continue
        for follower in lines[index + 1:]:
            follower = re.sub(r"\x1b\[[0-9;]*m", "", follower).strip()
            if re.match(r"^\S+ \S+ requires .+", follower):
                if follower not in conflicts:
                    conflicts.append(follower)
            elif follower and not follower.startswith("This behaviour is the source"):
                break
    return conflicts


def installed_from_output(output: str) -> list[str]:
    """The distributions of pip's "Successfully installed a-1.0 b-2.0" lines (what Colab's warning reads)."""
    names = []
    for line in re.findall(r"^(?:\x1b\[0m)?\s*Successfully installed (.*)$", output, re.M):
        for item in line.split():
            names.append(normalise(item[: item.rfind("-")]))
    return names


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


def restart_triggers(changed: list[str], preloaded: set[str] | list[str],
                     distribution_modules: dict[str, list[str]]) -> dict[str, list[str]]:
    """The changed distributions whose modules were already imported, with those modules.

    Colab's criterion (colabtools, google/colab/_pip.py): after a pip install it warns "You must
    restart the runtime in order to use newly installed versions" for every installed package that
    is already in ``sys.modules``. ``distribution_modules`` maps a normalised distribution name to
    its top-level import names (e.g. ``pillow`` -> ``PIL``).
    """
    imported = {top_level(module) for module in preloaded}
    triggers = {}
    for name in changed:
        modules = sorted(set(distribution_modules.get(normalise(name), [])) & imported)
        if modules:
            triggers[normalise(name)] = modules
    return triggers


# --------------------------------------------------------------------------- the base environment

def requirement_names(root: Path = ROOT) -> list[str]:
    return sorted({normalise(spec.split("==", 1)[0]) for spec in requirement_specs(root)})


def requirement_specs(root: Path = ROOT) -> list[str]:
    return list(requirement_pins(root).values())


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
    digest = hashlib.sha256(SNAPSHOT.read_bytes())
    digest.update("\n".join(requirement_names() + list(KERNEL_STACK)).encode())
    return digest.hexdigest()[:16]


def find_python(explicit: str | None = None) -> Path:
    """A Python 3.13 interpreter: ``--python``, ``$LLMBOOK_COLAB_PYTHON``, or pyenv's newest 3.13."""
    candidates = [explicit or os.environ.get("LLMBOOK_COLAB_PYTHON")]
    candidates += [str(path / "bin" / "python3") for path in
                   sorted(PYENV_PYTHONS.glob("3.13.*"), key=lambda p: version_key(p.name) or ((),), reverse=True)]
    for candidate in filter(None, candidates):
        try:
            result = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; print(*sys.version_info[:3])"],
                                    capture_output=True, text=True, timeout=60)
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


def run_logged(command: list, log: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    say(" ".join(str(part) for part in command)[:400])
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    if log is not None:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"$ {' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}\n")
    return result


def snapshot_constraints(snapshot: dict[str, str]) -> str:
    """A pip constraints file pinning every package of the snapshot that PyPI can serve by version."""
    return "\n".join(f"{name}=={public_version(version)}" for name, version in sorted(snapshot.items())
                     if not version.startswith("@") and not CUDA_STACK.match(name)) + "\n"


def pip_report(python: Path, arguments: list, log: Path) -> list[dict] | None:
    """``pip install --dry-run --report`` of ``arguments``: the install items, None when pip fails."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        result = run_logged([python, "-m", "pip", "install", "--disable-pip-version-check", "--dry-run",
                             "--ignore-installed", "--quiet", "--report", report, *arguments], log)
        if result.returncode != 0 or not report.exists():
            return None
        return json.loads(report.read_text(encoding="utf-8"))["install"]


def requirement_name(requirement: str) -> str | None:
    """The distribution a ``Requires-Dist`` line needs; None for an extra's optional dependency."""
    spec, _, marker = requirement.partition(";")
    if "extra" in marker:
        return None
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return normalise(found.group(1)) if found else None


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
    pins = {normalise(name): f"{name}=={version}" for name, version in
            (spec.split("==", 1) for spec in requirement_specs())}
    names = [name for name in requirement_names() if name not in SOURCE_BUILT]
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
        "python": subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True).stdout.strip(),
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


def fresh_copy(base: Path, target: Path) -> Path:
    """A hard-link copy of the base environment (pip replaces files, never writes into them)."""
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(base), str(target)], check=True)
    relocate(target, base)
    return target


def freeze(env: Path) -> dict[str, str]:
    result = subprocess.run([venv_python(env), "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True)
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
    result = subprocess.run([venv_python(env), "-c", code], capture_output=True, text=True, check=True)
    return {normalise(name): sorted(set(mods)) for name, mods in json.loads(result.stdout).items()}


def tree_state(env: Path) -> dict[str, tuple[int, int]]:
    """(inode, size) of every regular file: a hard-linked file written in place would change here."""
    state = {}
    for path in env.rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            state[str(path.relative_to(env))] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return state


# --------------------------------------------------------------------------- the repository at the clone target

def clone_dir() -> Path:
    """COLAB_CLONE_DIR of tools/notebooks.py, read from its source (no import: it needs llmbook)."""
    text = (ROOT / "tools" / "notebooks.py").read_text(encoding="utf-8")
    return Path(re.search(r'^COLAB_CLONE_DIR\s*=\s*["\']([^"\']+)["\']', text, re.M).group(1))


def working_tree_files(root: Path = ROOT) -> list[str]:
    result = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True)
    return sorted({name for name in result.stdout.decode().split("\0") if name and (root / name).is_file()})


def place_repository(target: Path) -> list[str]:
    """Copy this working tree (tracked + untracked, not ignored) to the clone target, with its .git."""
    if target.exists():
        if not (target / ".colab-tier").exists():
            raise SystemExit(f"[colab-tier] {target} exists and was not made by the tier; move it away first")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / ".colab-tier").write_text("made by tools/colab_tier.py; removed when the run ends\n")
    files = working_tree_files()
    for name in files:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination)
    return files


# --------------------------------------------------------------------------- one chapter

@dataclass
class ChapterResult:
    notebook: str
    setup_seconds: float = 0.0
    setup_error: str | None = None
    diff: FreezeDiff = field(default_factory=FreezeDiff)
    conflicts: list[str] = field(default_factory=list)
    restart: dict[str, list[str]] = field(default_factory=dict)
    colab_prompt: dict[str, list[str]] = field(default_factory=dict)
    passed: bool = False
    error: str | None = None
    notebook_seconds: float = 0.0
    base_untouched: bool | None = None
    offline_extras: list[tuple[str, str]] = field(default_factory=list)  # (name, version) the tier added after set-up
    setup_output_tail: str = ""
    llama_wheel_reused: bool = False


def kernel_spec(folder: Path, env: Path, extra_env: dict[str, str]) -> Path:
    """A kernelspec that starts the environment's python like Colab's kernel: ``-m colab_kernel_launcher``."""
    spec = folder / "kernels" / "colab-tier"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(venv_python(env)), "-m", "colab_kernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab tier (Python 3.13)", "language": "python", "env": extra_env,
    }), encoding="utf-8")
    return folder


def kernel_environment(env: Path, secrets_file: Path | None) -> dict[str, str]:
    """The kernel's environment: like Colab (no profile set, no local credentials), offline Hub switches on."""
    kept = {name: value for name, value in os.environ.items()
            if not SECRET_NAME.search(name) and (name == "LLMBOOK_CACHE" or not name.startswith(
                ("LLMBOOK_", "PYTHON", "VIRTUAL_ENV", "JPY_", "JUPYTER_", "MPLBACKEND")))}
    # pip as Colab has it: PyPI only, none of this machine's pip configuration (extra indexes, local
    # wheel folders, constraints); only the certificate bundle stays, it changes what is trusted, not what is installed.
    for name in [name for name in kept if name.startswith("PIP_") and name != "PIP_CERT"]:
        del kept[name]
    kept["PIP_CONFIG_FILE"] = os.devnull
    kept["PATH"] = os.pathsep.join([str(env / "bin"), kept.get("PATH", "/usr/bin:/bin")])
    kept["VIRTUAL_ENV"] = str(env)
    kept.update(OFFLINE_ENV)
    kept["COLAB_RELEASE_TAG"] = "llmbook-colab-tier"  # Colab sets this; some libraries look for it
    if secrets_file:
        kept["LLMBOOK_COLAB_SECRETS"] = str(secrets_file)
    return kept


def run_chapter(notebook: Path, base: Path, work: Path, clone: Path, timeout: int,
                secrets_file: Path | None, check_base: bool) -> ChapterResult:
    relative = notebook.relative_to(ROOT).as_posix()
    result = ChapterResult(notebook=relative)
    env = fresh_copy(base, work / "env")
    before_state = tree_state(base) if check_base else None
    before = freeze(env)
    spec_dir = kernel_spec(work / "jupyter", env, {})
    report = work / "report.json"
    report.unlink(missing_ok=True)
    # The driver (nbclient) runs in the base environment; the kernel it starts, in the chapter's copy.
    launcher = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tools.colab_tier import main; "
                "sys.exit(main(sys.argv[1:]))")
    command = [venv_python(base), "-c", launcher, "_drive", "--notebook", str(clone / relative),
               "--report", str(report), "--timeout", str(timeout), "--hermetic-site", str(clone / "tests" / "hermetic"),
               "--workdir", str(clone.parent),
               "--env", str(env), "--extras", *offline_extras()]
    driver_env = kernel_environment(env, secrets_file)
    driver_env["JUPYTER_PATH"] = str(spec_dir)
    driver_env["PATH"] = os.pathsep.join([str(env / "bin"), os.environ.get("PATH", "/usr/bin:/bin")])
    say(f"{relative}: kernel in {env}")
    process = subprocess.run([str(part) for part in command], cwd=work, env=driver_env,
                             capture_output=True, text=True)
    if not report.exists():
        result.error = f"driver failed (exit {process.returncode}): {process.stderr[-2000:]}"
        return result
    data = json.loads(report.read_text(encoding="utf-8"))
    result.setup_seconds = data["setup_seconds"]
    result.setup_error = data["setup_error"]
    result.passed = data["error"] is None and data["setup_error"] is None
    result.error = data["error"]
    result.notebook_seconds = data["notebook_seconds"]
    result.setup_output_tail = data["setup_output"][-4000:]
    result.llama_wheel_reused = "[llama_build] reusing" in data["setup_output"]
    after_setup = parse_freeze(data["freeze_after_setup"]) if data["freeze_after_setup"] else freeze(env)
    result.diff = diff_freeze(before, after_setup)
    result.offline_extras = diff_freeze(after_setup, freeze(env)).added
    result.conflicts = parse_conflicts(data["setup_output"])
    modules = distribution_modules(env)
    result.restart = restart_triggers(result.diff.changed(), data["preloaded"], modules)
    # What Colab itself would show: it reads pip's "Successfully installed" lines, which --quiet hides.
    result.colab_prompt = restart_triggers(installed_from_output(data["setup_output"]), data["preloaded"], modules)
    (work / f"{notebook.stem}.setup-output.txt").write_text(data["setup_output"], encoding="utf-8")
    if check_base:
        result.base_untouched = tree_state(base) == before_state
    return result


# --------------------------------------------------------------------------- the driver (runs in the base env)

PRELUDE = """\
import sys as _colab_tier_sys, json as _colab_tier_json
_colab_tier_sys.stdout.flush()
print("COLAB_TIER_MODULES=" + _colab_tier_json.dumps(sorted(_colab_tier_sys.modules)))
"""

HERMETIC_ON = """\
import os as _colab_tier_os, sys as _colab_tier_sys, importlib, importlib.util as _colab_tier_util
importlib.invalidate_caches()  # packages installed since the kernel started (the offline-only extras)
_colab_tier_os.environ.update({offline!r})
_colab_tier_os.environ["LLMBOOK_HERMETIC"] = "1"
_colab_tier_spec = _colab_tier_util.spec_from_file_location("_colab_tier_hermetic", {site!r})
_colab_tier_spec.loader.exec_module(_colab_tier_util.module_from_spec(_colab_tier_spec))
_colab_tier_os.environ["PYTHONPATH"] = _colab_tier_os.pathsep.join(
    filter(None, [{site_dir!r}, _colab_tier_os.environ.get("PYTHONPATH")]))
import socket as _colab_tier_socket
try:
    _colab_tier_socket.getaddrinfo("pypi.org", 443)
except OSError as _colab_tier_error:
    print("hermetic guard on:", _colab_tier_error)
else:
    raise RuntimeError("the hermetic guard did not switch on")
"""


def cell_text_outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])))
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
    return re.sub(r"\x1b\[[0-9;]*m", "", "".join(parts))


def first_error(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"[:500]
    return None


def drive(notebook: Path, report: Path, timeout: int, hermetic_site: Path, workdir: Path, env: Path,
          extras: list[str]) -> int:
    """Execute one notebook in the tier's kernel: the set-up cell online, then the rest offline and hermetic."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(notebook, as_version=4)
    code_cells = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    for cell in nb.cells:
        cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs")
    setup_index = 1
    # Colab's working directory is /content (the clone target's parent), not the chapter's folder.
    client = NotebookClient(nb, timeout=timeout, kernel_name="colab-tier", allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    data = {"setup_seconds": 0.0, "setup_error": None, "error": None, "notebook_seconds": 0.0,
            "setup_output": "", "preloaded": [], "freeze_after_setup": "", "extras_output": ""}

    def run_code(source: str) -> str:
        cell = nbformat.v4.new_code_cell(source)
        client.execute_cell(cell, 0, store_history=False)
        return cell_text_outputs(cell)

    with client.setup_kernel():
        # The set-up cell: the network as on Colab (PyPI), LLMBOOK_PROFILE unset.
        modules_line = run_code(PRELUDE)
        data["preloaded"] = json.loads(modules_line.split("COLAB_TIER_MODULES=", 1)[1].splitlines()[0])
        if "google.colab" not in data["preloaded"]:  # the set-up cell would then do nothing at all
            raise RuntimeError("google.colab is not imported when the kernel starts: the kernel is not Colab-like")
        started = time.monotonic()
        try:
            client.execute_cell(nb.cells[setup_index], setup_index)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            data["setup_error"] = first_error(nb.cells[setup_index]) or str(error).splitlines()[-1][:500]
        data["setup_seconds"] = round(time.monotonic() - started, 1)
        data["setup_output"] = cell_text_outputs(nb.cells[setup_index])
        pip = [str(venv_python(env)), "-m", "pip", "--disable-pip-version-check"]
        data["freeze_after_setup"] = subprocess.run(pip + ["freeze", "--all"], capture_output=True, text=True).stdout
        if extras:  # what only the offline profile needs; not part of what the set-up cell changed
            installed = subprocess.run(pip + ["install", "--no-deps", *extras], capture_output=True, text=True)
            data["extras_output"] = installed.stdout + installed.stderr
        started = time.monotonic()
        if data["setup_error"] is None:
            # The rest: offline profile, the Hub switched off, only loopback (tests/hermetic).
            run_code(HERMETIC_ON.format(offline={**OFFLINE_ENV, "LLMBOOK_PROFILE": "offline"}, site=str(hermetic_site / "sitecustomize.py"),
                                        site_dir=str(hermetic_site)))
            for index in code_cells:
                if index <= setup_index:
                    continue
                try:
                    client.execute_cell(nb.cells[index], index)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
                    data["error"] = (f"cell {index} ({nb.cells[index].get('id', '?')}): "
                                     + (first_error(nb.cells[index]) or str(error).strip().splitlines()[-1][:500]))
                    break
        data["notebook_seconds"] = round(time.monotonic() - started, 1)
    report.write_text(json.dumps(data), encoding="utf-8")
    executed = report.with_name(notebook.stem + ".executed.ipynb")
    nbformat.write(nb, executed)
    return 0


# --------------------------------------------------------------------------- the report

IMPORTANT = {"torch", "torchvision", "transformers", "accelerate", "sentence-transformers", "huggingface-hub",
             "tokenizers", "safetensors", "numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "pillow",
             "pyarrow", "datasets", "langchain", "langchain-core", "requests", "certifi", "protobuf",
             "ipykernel", "ipython", "ipywidgets", "numba", "llvmlite", "umap-learn", "hdbscan", "openai",
             "llama-cpp-python", "bertopic", "fsspec", "jinja2", "packaging", "typing-extensions", "pydantic"}


def pin(name: str, version: str) -> str:
    """``name==1.0``, or ``name (file.whl)`` for a package pip freeze lists by its location."""
    if version.startswith("@"):
        return f"{name} ({version.split('#', 1)[0].rstrip('/').rsplit('/', 1)[-1]})"
    return f"{name}=={version}"


def short_changes(items: list[tuple[str, str, str]]) -> str:
    if not items:
        return "0"
    return f"{len(items)}: " + ", ".join(f"{name} {old}→{new}" for name, old, new in items)


def short_added(items: list[tuple[str, str]]) -> str:
    if not items:
        return "0"
    named = [name for name, _ in items if name in IMPORTANT]
    return f"{len(items)}" + (f" (incl. {', '.join(named)})" if named else "")


def table(results: list[ChapterResult]) -> str:
    lines = ["| chapter | set-up s | upgraded | downgraded | added | conflicts | restart needed | pass/fail "
             "| notebook s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        chapter = r.notebook.split("/", 1)[0]
        restart = ("yes (" + ", ".join(f"{d}: {'/'.join(m[:3])}" for d, m in r.restart.items()) + ")"
                   if r.restart else "no")
        if r.setup_error:
            verdict = f"fail (set-up: {r.setup_error})"
        elif r.passed:
            verdict = "pass"
        else:
            verdict = f"fail ({r.error})"
        lines.append(f"| {chapter} | {r.setup_seconds:.0f} | {short_changes(r.diff.upgraded)} | "
                     f"{short_changes(r.diff.downgraded)} | {short_added(r.diff.added)} | {len(r.conflicts)} | "
                     f"{restart} | {verdict.replace('|', '/')} | {r.notebook_seconds:.0f} |")
    return "\n".join(lines)


def details(results: list[ChapterResult]) -> str:
    parts = []
    for r in results:
        parts.append(f"### {r.notebook}\n")
        if r.diff.added:
            parts.append("- added: " + ", ".join(pin(n, v) for n, v in r.diff.added))
        if r.offline_extras:
            parts.append("- offline-only extras the tier installed after the set-up cell (--no-deps): "
                         + ", ".join(pin(n, v) for n, v in r.offline_extras))
        if r.colab_prompt or r.restart:
            parts.append("- Colab's own restart prompt (it reads pip's \"Successfully installed\" line): "
                         + (", ".join(sorted(r.colab_prompt)) if r.colab_prompt else "not shown"))
        if r.diff.removed:
            parts.append("- removed: " + ", ".join(pin(n, v) for n, v in r.diff.removed))
        for line in r.conflicts:
            parts.append(f"- conflict: {line}")
        if r.llama_wheel_reused:
            parts.append("- llama-cpp-python: the set-up step reused the wheel cached in ~/.cache/llmbook/wheels "
                         "(tagged py3-none, so a build made for another Python serves too); its build is not in this "
                         "set-up time (a fresh Colab runtime builds or downloads it)")
        if r.base_untouched is not None:
            parts.append(f"- base environment unchanged by this chapter's installs (inode/size/mtime of every file): "
                         f"{'yes' if r.base_untouched else 'NO'}")
        parts.append("")
    return "\n".join(parts)


def host_cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def markdown_report(results: list[ChapterResult], base: Path, total: float, snapshot_text: str,
                    built_now: bool = False) -> str:
    info = base_info(base)
    date = datetime.now().strftime("%Y-%m-%d")
    return "\n".join([
        "# Colab tier (`python -m tools.colab_tier`)",
        "",
        f"Measured {date} on {host_cpu()}, Linux; Python {info['python']} (Colab: 3.13.15 on Ubuntu 22.04).",
        f"Colab's packages: `tools/colab/pip-freeze.gpu.txt`, googlecolab/backend-info commit "
        f"{snapshot_commit(snapshot_text)} (2026-08-19); base environment of {len(info['packages'])} packages at "
        f"those versions, built in {info['seconds']} s (once; cached).",
        "Each chapter: a fresh hard-link copy of that environment; its set-up cell runs as written with PyPI reachable "
        "and no profile set; then the notebook runs on under the offline profile with only loopback reachable.",
        "\"restart needed\": a package the set-up cell upgraded or downgraded has a module that was already in "
        "`sys.modules` when the cell started (Colab's check, colabtools `google/colab/_pip.py`).",
        "",
        table(results),
        "",
        f"Total wall time of this run: {total:.0f} s "
        f"(the base environment was {'built in it' if built_now else 'reused'}; "
        f"building it took {info['seconds']} s).",
        "",
        "## Details",
        "",
        details(results),
        "## The base environment",
        "",
        *[f"- {note}" for note in info["notes"]],
        f"- `pip check` in the base environment: {'; '.join(info['pip_check']) or 'nothing to report'}",
        "",
    ])


# --------------------------------------------------------------------------- main

def write_secrets(items: list[str]) -> Path | None:
    """``--secret NAME=VALUE`` values for the google.colab stub, in a file only this user can read
    (0600, outside the run's folder that is kept) and removed when the run ends, however it ends."""
    if not items:
        return None
    descriptor, name = tempfile.mkstemp(prefix="llmbook-colab-secrets-", suffix=".json")  # mode 0600
    path = Path(name)
    atexit.register(path.unlink, missing_ok=True)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(dict(item.split("=", 1) for item in items), file)
    return path


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m tools.colab_tier", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", nargs="*", default=[],
                        help="chapters to run, e.g. 1 2 or chapter05 (default: all)")
    parser.add_argument("--write-results", action="store_true", help=f"also write {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--keep", action="store_true", help="keep the clone target and the per-chapter environments")
    parser.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE",
                        help="a Colab Secret google.colab.userdata.get returns (default: none, so it raises)")
    parser.add_argument("--rebuild-base", action="store_true", help="build the base environment again")
    parser.add_argument("--base-only", action="store_true", help="build (or check) the base environment and stop")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    parser.add_argument("--python", help="the Python 3.13 to build the base environment with")
    parser.add_argument("--no-base-check", action="store_true",
                        help="skip the check that a chapter's installs left the base environment untouched")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_drive"]:
        parser = argparse.ArgumentParser()
        for option in ("--notebook", "--report", "--hermetic-site", "--workdir", "--env"):
            parser.add_argument(option, type=Path, required=True)
        parser.add_argument("--extras", nargs="*", default=[])
        parser.add_argument("--timeout", type=int, required=True)
        args = parser.parse_args(argv[1:])
        return drive(args.notebook, args.report, args.timeout, args.hermetic_site, args.workdir, args.env, args.extras)
    console.reconfigure()
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tools.run_notebooks import chapter_notebooks

    notebooks = chapter_notebooks(args.chapters)
    started = time.monotonic()
    built_now = args.rebuild_base or not (cache_root() / f"base-{base_key()}" / ".colab-tier.json").exists()
    base = ensure_base(args.python, args.rebuild_base)
    if args.base_only:
        info = base_info(base)
        say(f"{base}: Python {info['python']}, {len(info['packages'])} packages, built in {info['seconds']} s")
        return 0
    snapshot_text = SNAPSHOT.read_text(encoding="utf-8")
    clone = clone_dir()
    work = cache_root() / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    work.mkdir(parents=True)
    secrets_file = write_secrets(args.secret)
    results = []
    made_parent = not clone.parent.exists()
    try:
        say(f"copying the working tree to {clone}")
        place_repository(clone)
        for number, notebook in enumerate(notebooks):
            chapter_work = work / notebook.parent.name
            chapter_work.mkdir(parents=True, exist_ok=True)
            chapter_started = time.monotonic()
            result = run_chapter(notebook, base, chapter_work, clone, args.timeout, secrets_file,
                                 check_base=not args.no_base_check)
            results.append(result)
            seconds = time.monotonic() - chapter_started
            say(f"{result.notebook}: {'pass' if result.passed else 'FAIL'} in {seconds:.0f} s"
                + ("" if result.passed else f" ({result.setup_error or result.error})"))
            if not args.keep:
                shutil.rmtree(chapter_work / "env", ignore_errors=True)
    finally:
        if secrets_file:
            secrets_file.unlink(missing_ok=True)
        if not args.keep:
            shutil.rmtree(clone, ignore_errors=True)
            if made_parent:  # /content was made for this run (notebook outputs written there go with it)
                shutil.rmtree(clone.parent, ignore_errors=True)
    total = time.monotonic() - started
    report = markdown_report(results, base, total, snapshot_text, built_now)
    print(report)
    (work / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    say(f"outputs of each set-up cell and the executed notebooks: {work}")
    if args.write_results:
        RESULTS.write_text(report, encoding="utf-8")
        say(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
