"""Load the functions a notebook defines, so tests check the code the reader runs, not a copy.

As in rasbt/LLMs-from-scratch: the test reads the notebook, takes the top-level ``def``/``class``
statements it asks for (and every import of the notebook, so their names resolve), and executes
only those -- no model loads, no downloads, nothing else of the chapter runs.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def python_source(cell_source: str) -> str:
    """A code cell without IPython's ``%magic`` and ``!shell`` lines (they are not Python)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines())


def load_definitions(notebook: str | Path, *names: str) -> types.ModuleType:
    """A module holding the notebook's definitions of ``names`` (and the notebook's imports).

    ``notebook`` is a path relative to the repository root, e.g. ``"chapter02/chapter02_tokens_embeddings.ipynb"``.
    A name the notebook does not define at the top level of a code cell is an error.
    """
    path = ROOT / notebook
    nb = nbformat.read(path, as_version=4)
    imports: list[ast.stmt] = []
    definitions: dict[str, ast.stmt] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(python_source(cell.source)).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
                definitions[node.name] = node  # a later cell's definition wins, as in the kernel
    missing = [name for name in names if name not in definitions]
    if missing:
        raise LookupError(f"{notebook} defines no top-level {', '.join(missing)}")
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    tree = ast.Module(body=imports + [definitions[name] for name in names], type_ignores=[])
    exec(compile(tree, str(path), "exec"), module.__dict__)
    return module


def assigned_literals(notebook: str | Path, name: str) -> list:
    """Every literal (a string, a list of messages …) the notebook assigns to ``name`` at the top level
    of a code cell, in cell order: the sample texts and prompts a test checks are the ones the reader runs."""
    values = []
    for cell in nbformat.read(ROOT / notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(python_source(cell.source)).body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
                try:
                    values.append(ast.literal_eval(node.value))
                except ValueError:
                    continue  # not a literal: computed at run time
    return values
