"""Offline assets: real small models from PyPI packages, else tiny models of the book's classes.

Every builder is deterministic (seeded), writes into the cache folder under a name keyed by what it
is built from (``asset_key``) and returns that folder, so a second call costs nothing and a change of
inputs builds anew. Builders never touch the network: what they need from PyPI is fetched by the
set-up (``python -m tools.offline_assets fetch``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..pins import pinned_version
from ..profiles import cache_dir

COMPLETE_MARKER = ".complete"
# Touched each time a build is handed out, so that tools.offline_assets can tell the builds in use.
LAST_USED_MARKER = ".last-used"
# ``<name>-v<version>-<key>``, and ``<name>-v<version>`` as the cache was named before keys.
CACHED_BUILD_NAME = re.compile(r"^(?P<name>.+)-v\d+(-[0-9a-f]{12})?$")
# While ``planned_keys`` runs: {asset name: key} of every cached_build asked for, nothing built.
_PLAN: dict | None = None


def seed_everything(seed: int = 0) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cached_build(name: str, version: int, build: Callable[[Path], None], reads: Iterable[str] = ()) -> Path:
    """Return ``<cache>/<name>-v<version>-<key>``, calling ``build(folder)`` once to fill it.

    ``key`` is ``asset_key(build, reads)``: it changes with the code of the builder's module (and of the
    llmbook.offline modules it imports) and with the installed version of every package those modules
    import or ``reads`` names (packages read as files, such as a model shipped in a wheel), so a
    pin bump or a builder edit rebuilds exactly the assets it touches. Bump ``version`` only for an
    input the key cannot see. The folder is filled in a temporary sibling and renamed when complete,
    so an interrupted build never leaves a half-written cache entry behind.
    """
    if _PLAN is not None:
        key = asset_key(build, reads, _PLAN["version_of"])[:12]
        _PLAN["keys"][name] = key
        return cache_dir() / f"{name}-v{version}-{key}"
    target = cache_dir() / f"{name}-v{version}-{asset_key(build, reads)[:12]}"
    if (target / COMPLETE_MARKER).exists():
        mark_used(target)
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir()))
    try:
        seed_everything(0)
        build(staging)
        (staging / COMPLETE_MARKER).write_text("ok\n")
        if (target / COMPLETE_MARKER).exists():  # another process (a second test worker) finished first
            return target
        if target.exists():  # a leftover without its marker
            shutil.rmtree(target)
        try:
            staging.rename(target)
        except OSError:  # renamed by another process in the meantime
            if not (target / COMPLETE_MARKER).exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    mark_used(target)
    return target


def mark_used(folder: Path) -> None:
    (folder / LAST_USED_MARKER).touch()


def last_used(folder: Path) -> float:
    for marker in (LAST_USED_MARKER, COMPLETE_MARKER):
        if (folder / marker).exists():
            return (folder / marker).stat().st_mtime
    return folder.stat().st_mtime


def asset_key(build: Callable, reads: Iterable[str] = (), version_of: Callable[[str], str] | None = None) -> str:
    """SHA-256 of what an asset is built from: the code (docstrings and comments aside) of the module
    defining ``build`` and of every llmbook.offline module it imports, directly or not, and
    ``name==version`` of every package those modules import plus the distributions in ``reads``.
    ``version_of`` (default: the installed version, else the pin) lets a test try a pin bump."""
    version_of = version_of or installed_version
    modules = offline_modules(build.__module__)
    packages = set(reads)
    digest = hashlib.sha256()
    for module in modules:
        tree = _parsed(module)
        digest.update(f"{module}\n{ast.dump(_without_docstrings(tree))}\n".encode())
        packages |= _imported_distributions(tree)
    for package in sorted(packages):
        digest.update(f"{package}=={version_of(package)}\n".encode())
    return digest.hexdigest()


def planned_keys(build_all: Callable[[], object], version_of: Callable[[str], str] | None = None) -> dict[str, str]:
    """``{asset name: cache key}`` of every asset ``build_all()`` asks for, without building any;
    with ``version_of``, the keys they would have after that change of package versions."""
    global _PLAN
    _PLAN = {"keys": {}, "version_of": version_of or installed_version}
    try:
        build_all()
        return dict(_PLAN["keys"])
    finally:
        _PLAN = None


def installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        try:
            return pinned_version(distribution)
        except KeyError:
            return "not-installed"


def offline_modules(module: str) -> list[str]:
    """``module`` and the llmbook.offline modules it imports, directly or through each other, sorted.

    ``module`` itself always counts, wherever it lives (the rehearsal's builders are in
    tools.rehearsal); from there, relative imports and absolute ``llmbook.offline`` imports are followed.
    """
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen or (current != module and not current.startswith(__name__)):
            continue
        seen.add(current)
        for node in ast.walk(_parsed(current)):
            if not isinstance(node, ast.ImportFrom) or not (node.level or (node.module or "").startswith(__name__)):
                continue
            if node.level:
                base = current if _is_package(current) else current.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            todo.append(target)
            todo += [f"{target}.{alias.name}" for alias in node.names if _exists(f"{target}.{alias.name}")]
    return sorted(seen)


@functools.cache
def _parsed(module: str) -> ast.Module:
    spec = importlib.util.find_spec(module)
    return ast.parse(Path(spec.origin).read_text(encoding="utf-8"))


def _is_package(module: str) -> bool:
    return Path(importlib.util.find_spec(module).origin).name == "__init__.py"


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _imported_distributions(tree: ast.Module) -> set[str]:
    """The distributions (``transformers``, ``open-clip-torch`` …) whose modules ``tree`` imports."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    names -= set(sys.stdlib_module_names)
    return {distribution.lower() for name in names for distribution in _distributions().get(name, [name])}
