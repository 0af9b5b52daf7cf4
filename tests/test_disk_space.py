"""book.py checks free disk space before its long steps (tools/disk_space.py), with figures that cover
what a fresh clone's test command was measured to take (benchmarks/results/disk.md)."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from tools import disk_space
from tools.disk_space import GIB, NEEDS_GIB, DiskSpaceError, check_free_space, tree_size

ROOT = Path(__file__).resolve().parents[1]
Usage = namedtuple("Usage", "total used free")


def free_space(monkeypatch, gib: float) -> None:
    monkeypatch.setattr(disk_space.shutil, "disk_usage", lambda path: Usage(100 * GIB, 0, int(gib * GIB)))


def test_a_shortfall_names_the_folder_the_figures_and_the_fix(tmp_path, monkeypatch):
    free_space(monkeypatch, 2.0)
    with pytest.raises(DiskSpaceError) as error:
        check_free_space({tmp_path / "not-yet" / "venv": 3 * GIB}, "book.py test")
    message = str(error.value)
    assert str(tmp_path / "not-yet" / "venv") in message  # a folder that does not exist yet: its disk counts
    assert "只剩 2.0 GiB，需要約 3.0 GiB" in message and "book.py test 沒有開始" in message
    assert "LLMBOOK_VENV" in message and "TMPDIR" in message and disk_space.RESULTS in message


def test_folders_on_one_disk_add_up(tmp_path, monkeypatch):
    free_space(monkeypatch, 5.0)
    check_free_space({tmp_path / "a": 3 * GIB}, "x")  # each alone fits
    check_free_space({tmp_path / "b": 3 * GIB}, "x")
    with pytest.raises(DiskSpaceError, match="需要約 6.0 GiB"):
        check_free_space({tmp_path / "a": 3 * GIB, tmp_path / "b": 3 * GIB}, "x")


def test_tree_size_counts_blocks_on_disk_and_skips_what_it_is_told(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "data").write_bytes(b"x" * 100_000)
    (tmp_path / "colab-tier").mkdir()
    (tmp_path / "colab-tier" / "env").write_bytes(b"x" * 100_000)
    (tmp_path / "link").symlink_to(tmp_path / "keep" / "data")
    sparse = tmp_path / "sparse"
    with sparse.open("wb") as file:  # 50 MB long, nothing written: takes (almost) no blocks
        file.truncate(50_000_000)
    size = tree_size(tmp_path, skip=("colab-tier",))
    assert 100_000 <= size < 200_000, size
    assert tree_size(tmp_path / "absent") == 0


def measured_peaks() -> dict[str, float]:
    """The highest peak of each part over every run the results file records."""
    text = (ROOT / disk_space.RESULTS).read_text(encoding="utf-8")
    peaks: dict[str, float] = {}
    for name, gib in re.findall(r"^\| ([^|*]+?) \| ([\d.]+) GiB \|", text, re.M):
        peaks[name] = max(peaks.get(name, 0.0), float(gib))
    return {"venv": max(map(float, re.findall(r"virtual environment alone: ([\d.]+) GiB", text))),
            "cache": peaks["offline-asset cache"], "tmp": peaks["temporary folder"]}


def test_the_figures_cover_the_measured_peaks():
    for part, measured in measured_peaks().items():
        assert measured <= NEEDS_GIB[part] <= measured + 3, (part, measured, NEEDS_GIB[part])


@pytest.fixture
def book(monkeypatch):
    spec = importlib.util.spec_from_file_location("book", ROOT / "book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_book_test_stops_before_any_install_when_the_disk_is_full(book, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(book, "VENV", tmp_path / "venv")  # not installed: its space is needed too
    monkeypatch.setattr(book, "STAMP", tmp_path / "venv" / ".llmbook-installed")
    monkeypatch.setenv("LLMBOOK_CACHE", str(tmp_path / "cache"))
    free_space(monkeypatch, 1.0)

    def must_not_run():
        raise AssertionError("set-up started on a full disk")

    monkeypatch.setattr(book, "ensure_environment", must_not_run)
    monkeypatch.setattr(sys, "argv", ["book.py", "test"])
    assert book.main() == 1
    out = capsys.readouterr().out
    total = sum(NEEDS_GIB.values())  # venv, empty cache and tests' temporary folder, all on this one disk
    assert f"需要約 {total:.1f} GiB" in out and str(tmp_path / "venv") in out


def test_book_run_checks_the_venv_and_under_cpu_no_cache_or_test_room(book, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(book, "VENV", tmp_path / "venv")
    monkeypatch.setattr(book, "STAMP", tmp_path / "venv" / ".llmbook-installed")
    monkeypatch.setenv("LLMBOOK_PROFILE", "cpu")
    monkeypatch.setattr(book, "resolve_profile", lambda: "cpu")  # the Hub probe is not what this tests
    free_space(monkeypatch, 1.0)
    monkeypatch.setattr(book, "ensure_environment", lambda: pytest.fail("set-up started on a full disk"))
    monkeypatch.setattr(sys, "argv", ["book.py", "run", "chapter01"])
    assert book.main() == 1
    out = capsys.readouterr().out
    assert "book.py run 沒有開始" in out and f"需要約 {NEEDS_GIB['venv']:.1f} GiB" in out  # the venv alone


def test_an_installed_venv_and_a_full_cache_need_only_the_tests_room(book, monkeypatch, tmp_path):
    monkeypatch.setattr(book, "install_fingerprint", lambda: "same")
    monkeypatch.setattr(book, "STAMP", tmp_path / ".llmbook-installed")
    book.STAMP.write_text("same")
    monkeypatch.setenv("LLMBOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(book, "tree_size", lambda path, skip=(): int(NEEDS_GIB["cache"] * GIB))
    needs = book.disk_needs(offline_assets=True, tests=True)
    assert needs == {tmp_path / "cache": 0, Path(book.tempfile.gettempdir()): int(NEEDS_GIB["tmp"] * GIB)}
