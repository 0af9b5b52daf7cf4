"""Reading what pip says: ``pip freeze`` listings, the snapshot's header, pip's conflict and success
lines, and from them what a set-up cell changed and whether Colab would ask for a restart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

try:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version
except ImportError:  # a bare Python (``python3 -m tools.colab_tier`` before set-up): pip vendors the same library
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    from pip._vendor.packaging.version import InvalidVersion, Version

from llmbook.pins import normalise

# The line pip prints above the conflicts its install left behind.
CONFLICT_HEADER = "pip's dependency resolver does not currently take into account"
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


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
    """``2.11.0+cu128`` -> ``2.11.0``: PyPI carries the public version only (its torch wheel is a CUDA build).

    A plain split, not ``Version(...).public``: the snapshot's ``@ url`` entries are no versions at all."""
    return version.split("+", 1)[0]


def parse_version(text: str) -> Version | None:
    """``text`` as a PEP 440 version (``packaging``'s order); None when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def compare_versions(old: str, new: str) -> int:
    """-1 if ``new`` is older than ``old``, 0 if the same public version, 1 if newer (or not comparable).

    The local part is left out (``2.11.0+cu128`` is Colab's build of PyPI's ``2.11.0``); the rest is
    PEP 440's order. Two locations (``@ url``) that differ count as newer: something was replaced.
    """
    if public_version(old) == public_version(new):
        return 0
    before, after = parse_version(public_version(old)), parse_version(public_version(new))
    if before is None or after is None:
        return 1
    return (after > before) - (after < before)


def requirement_name(requirement: str) -> str | None:
    """The distribution a ``Requires-Dist`` line of pip's report needs; None for an extra's optional dependency."""
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as error:
        raise ValueError(f"{requirement!r} (Requires-Dist in pip's report) is not a valid requirement: {error}") from None
    if parsed.marker is not None and "extra" in str(parsed.marker):
        return None
    return normalise(parsed.name)


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
            follower = COLOUR.sub("", follower).strip()
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
