"""The lock files (locks/, made by ``python -m tools.lock``) stay in step with the requirement files,
hash every package, and are what book.py installs."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from llmbook.pins import normalise, read_pins
from tools.lock import LOCKS, NO_DEPS_FILES, PYTHONS, lock_for

ROOT = Path(__file__).resolve().parents[1]
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
FIX = "run `python -m tools.lock` after changing a requirement file"


def read_lock(path: Path) -> dict[str, dict]:
    """``{name: {"version", "hashes", "via"}}`` of a requirements-txt lock written by uv."""
    entries: dict[str, dict] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if line and not line[0].isspace() and not line.startswith("#"):
            requirement = Requirement(line.rstrip(" \\"))
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            current = entries.setdefault(normalise(requirement.name),
                                         {"version": specifier.version, "hashes": set(), "via": set()})
        elif current is not None and stripped.startswith("--hash="):
            current["hashes"].update(HASH.findall(stripped))
        elif current is not None and (stripped.startswith("# via") or stripped.startswith("#   ")):
            via = stripped.removeprefix("# via").strip().removeprefix("#").strip()
            if via:
                current["via"].add(via)
    return entries


def direct(entries: dict[str, dict], source: str) -> dict[str, str]:
    return {name: entry["version"] for name, entry in entries.items() if f"-r {source}" in entry["via"]}


@pytest.mark.parametrize("python", PYTHONS)
def test_each_pythons_lock_pins_exactly_the_requirements(python):
    entries = read_lock(lock_for(python))
    pins = {name: spec.split("==", 1)[1].split(";")[0].strip() for name, spec in read_pins(ROOT / "requirements.txt").items()}
    assert direct(entries, "requirements.txt") == pins, FIX
    assert all(entry["hashes"] for entry in entries.values()), "every locked package has its SHA-256"
    assert len(entries) > 2 * len(pins)  # the dependencies of dependencies are locked too
    assert "python -m tools.lock" in lock_for(python).read_text(encoding="utf-8")  # how to regenerate it
    assert {"pyyaml", "packaging", "torch"} <= set(entries)


@pytest.mark.parametrize("source", NO_DEPS_FILES)
def test_the_no_deps_locks_pin_exactly_their_files(source):
    entries = read_lock(LOCKS / source)
    pins = {name: spec.split("==", 1)[1].strip() for name, spec in read_pins(ROOT / source).items()}
    assert {name: entry["version"] for name, entry in entries.items()} == pins, FIX
    assert all(entry["hashes"] for entry in entries.values())


def test_the_llama_cpp_sdist_hash_is_recorded_for_the_offline_set_up():
    from tools.offline_assets import recorded_sdist_sha256

    (digest,) = read_lock(LOCKS / "requirements-llama.txt")["llama-cpp-python"]["hashes"]
    assert recorded_sdist_sha256() == digest


def test_a_lock_out_of_step_is_caught(tmp_path):
    lock = tmp_path / "lock.txt"
    text = lock_for(PYTHONS[0]).read_text(encoding="utf-8")
    lock.write_text(text.replace("\nnumpy==", "\nnumpy==0.", 1), encoding="utf-8")
    pins = {name: spec.split("==", 1)[1].strip() for name, spec in read_pins(ROOT / "requirements.txt").items()}
    assert direct(read_lock(lock), "requirements.txt") != pins


@pytest.fixture(scope="module")
def book():
    spec = importlib.util.spec_from_file_location("book", ROOT / "book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_book_py_installs_this_pythons_lock_with_hashes_required(book):
    commands = [command for command, _ in book.install_commands()]
    this_python = lock_for(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert commands[0][-2:] == ["-r", this_python]
    assert commands[1][-2:] == ["-r", LOCKS / "requirements-nodeps.txt"]
    assert all({"--require-hashes", "--no-deps"} <= set(command) for command in commands)  # the lock is complete
    assert this_python in book.INSTALL_INPUTS  # a new lock reinstalls
