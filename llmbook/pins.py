"""The exact versions this repository is tested with, read from its requirement files.

The one parser of the pin files: ``book.py`` (set-up), the Colab set-up cells, the offline
set-up, the Colab tier and the tests all ask here. Each line is parsed as a PEP 508 requirement by
``packaging`` (pip's own copy before anything is installed, so ``book.py`` can use it first), and
anything but one exact ``name==version`` per package is an error that names the line.
"""

from __future__ import annotations

import re
from pathlib import Path

try:
    from packaging.requirements import InvalidRequirement, Requirement
except ImportError:  # a bare Python before set-up: pip vendors the same library
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

ROOT = Path(__file__).resolve().parents[1]
# requirements.txt: everything pip installs in one go; requirements-llama.txt: llama-cpp-python,
# built from source in a step of its own; requirements-nodeps.txt: packages used for a file they ship.
PIN_FILES = ("requirements.txt", "requirements-llama.txt", "requirements-nodeps.txt")


class PinError(ValueError):
    """A requirement line that is not one exact pin; the message names the file, the line and the fix."""


def parse_pin(spec: str, where: str = "") -> tuple[str, str]:
    """``(normalised name, version)`` of one ``name==version`` requirement; anything else is a PinError."""
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as error:
        raise PinError(f"{where}{spec!r} is not a valid requirement ({error})") from None
    specifiers = list(requirement.specifier)
    if requirement.url or len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        raise PinError(f"{where}{spec!r} is not an exact pin: write it as {requirement.name}==<version>"
                       " (every package is pinned to the one version the tests ran with)")
    return normalise(requirement.name), specifiers[0].version


def read_pins(path: Path) -> dict[str, str]:
    """``{normalised name: "name==version"}`` for every requirement line of one requirement file.

    Every line that is not blank or a comment must be one exact pin, and each package may be
    named once; otherwise a PinError names the file and line.
    """
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        spec = line.split("#", 1)[0].strip()
        if not spec:
            continue
        where = f"{path.name}:{number}: "
        name, _ = parse_pin(spec, where)
        if name in pins:
            raise PinError(f"{where}{name} is pinned twice ({pins[name]!r} and {spec!r}); keep one line")
        pins[name] = spec
    return pins


def requirement_pins(root: Path = ROOT) -> dict[str, str]:
    """Every pin of every requirement file of the repository; a package in two files is a PinError."""
    pins: dict[str, str] = {}
    for name in PIN_FILES:
        for package, spec in read_pins(root / name).items():
            if package in pins:
                raise PinError(f"{package} is pinned in two requirement files ({pins[package]!r}, {spec!r})")
            pins[package] = spec
    return pins


def pinned_version(package: str, root: Path = ROOT) -> str:
    """The version ``package`` is pinned to; a package with no pin is an error."""
    spec = requirement_pins(root).get(normalise(package))
    if spec is None:
        raise KeyError(f"{package} is not pinned in {', '.join(PIN_FILES)}")
    return parse_pin(spec)[1]


def normalise(name: str) -> str:
    """PEP 503 normalisation: ``Llama_CPP.python`` and ``llama-cpp-python`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()
