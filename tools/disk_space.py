"""Free disk space, checked before book.py's long steps (standard library only: book.py uses it first).

A full disk otherwise shows up minutes into a run as an ``OSError: [Errno 28]`` deep inside pip, a
model build or a notebook; checked first, it stops the command at once and says what to do.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

GIB = 2**30
# The peaks of a fresh clone's `python3 book.py test` (benchmarks/results/disk.md, measured), rounded
# up: the virtual environment, the offline-asset cache, and the temporary folder the tests write in.
# tests/test_disk_space.py keeps them at or above the measured figures.
NEEDS_GIB = {"venv": 8.5, "cache": 3.5, "tmp": 4.0}
RESULTS = "benchmarks/results/disk.md"


class DiskSpaceError(RuntimeError):
    """Not enough free space for a step; the message names the folders, the figures and the fix."""


def tree_size(path: Path, skip: tuple[str, ...] = ()) -> int:
    """Bytes the files under ``path`` take on disk (symbolic links not followed); 0 if it is absent."""
    total = 0
    for top, folders, names in os.walk(path):
        folders[:] = [f for f in folders if f not in skip]
        for name in names:
            try:
                stat = os.lstat(os.path.join(top, name))
            except OSError:  # removed while we walked
                continue
            blocks = getattr(stat, "st_blocks", None)  # what it takes on disk; Windows knows only the length
            total += stat.st_size if blocks is None else blocks * 512
    return total


def existing_parent(path: Path) -> Path:
    path = Path(path).resolve()
    while not path.exists():
        path = path.parent
    return path


def check_free_space(needs: dict[Path, int], what: str) -> None:
    """Raise ``DiskSpaceError`` unless each disk has the bytes ``needs`` asks of its folders (folders on
    one disk add up)."""
    disks: dict[int, tuple[Path, list[Path], int]] = {}
    for folder, need in needs.items():
        anchor = existing_parent(folder)
        device = os.stat(anchor).st_dev
        _, folders, total = disks.get(device, (anchor, [], 0))
        disks[device] = (anchor, [*folders, folder], total + need)
    problems = []
    for anchor, folders, need in disks.values():
        free = shutil.disk_usage(anchor).free
        if free < need:
            names = "、".join(str(folder) for folder in folders)
            problems.append(f"{names} 所在的磁碟只剩 {free / GIB:.1f} GiB，需要約 {need / GIB:.1f} GiB"
                            f" / {free / GIB:.1f} GiB free there, {need / GIB:.1f} GiB needed")
    if problems:
        raise DiskSpaceError(
            f"磁碟空間不足，{what} 沒有開始 / not enough disk space, {what} did not start:\n  "
            + "\n  ".join(problems)
            + f"\n所需空間是實測高峰（{RESULTS}）。請清出空間，或用環境變數 LLMBOOK_VENV、LLMBOOK_CACHE、TMPDIR "
              "把虛擬環境、離線資源快取或暫存檔放到空間較大的磁碟。"
              " / The figures are measured peaks; free some space, or point LLMBOOK_VENV, LLMBOOK_CACHE"
              " or TMPDIR at a larger disk."
        )
