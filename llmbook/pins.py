"""The exact versions this repository is tested with, read from its requirement files.

The one parser of the pin files: ``book.py`` (set-up), the Colab set-up cells, the offline
set-up and the tests all ask here. Standard library only, so ``book.py`` can use it before any
package is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# requirements.txt: everything pip installs in one go; requirements-llama.txt: llama-cpp-python,
# built from source in a step of its own; requirements-nodeps.txt: packages used for a file they ship.
PIN_FILES = ("requirements.txt", "requirements-llama.txt", "requirements-nodeps.txt")


def read_pins(path: Path) -> dict[str, str]:
    """``{normalised name: "name==version"}`` for every pinned line of one requirement file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        spec = line.split("#", 1)[0].strip()
        if "==" in spec:
            name = spec.split("==", 1)[0].strip()
            pins[normalise(name)] = spec
    return pins


def requirement_pins(root: Path = ROOT) -> dict[str, str]:
    """Every pin of every requirement file of the repository."""
    pins: dict[str, str] = {}
    for name in PIN_FILES:
        pins.update(read_pins(root / name))
    return pins


def pinned_version(package: str, root: Path = ROOT) -> str:
    """The version ``package`` is pinned to; a package with no pin is an error."""
    spec = requirement_pins(root).get(normalise(package))
    if spec is None:
        raise KeyError(f"{package} is not pinned in {', '.join(PIN_FILES)}")
    return spec.split("==", 1)[1].strip()


def normalise(name: str) -> str:
    """PEP 503 normalisation: ``Llama_CPP.python`` and ``llama-cpp-python`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()
