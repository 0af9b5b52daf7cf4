"""The Hub contract: every outside thing the ``gpu`` and ``cpu`` profiles fetch, with evidence.

``hub_contract.toml`` beside this file has one ``[[entry]]`` per Hub repository or web address:
the name exactly as the code asks for it, its kind (``model``, ``dataset``, ``url``), the files the
real repository has, its licence and gating, and the public page that shows it exists (with the
date it was seen). The local Hub serves exactly these entries; the rehearsal fails when a notebook
asks for anything else, and a test fails when the substitution table names something it lacks.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CONTRACT_FILE = Path(__file__).with_name("hub_contract.toml")
KINDS = ("model", "dataset", "url")


@dataclass(frozen=True)
class Entry:
    id: str
    requested_as: str  # the name on the wire, where a library rewrites ``id`` (else the same)
    kind: str
    files: tuple[str, ...]
    sizes: tuple[int, ...]
    profiles: tuple[str, ...]
    licence: str
    gated: bool
    evidence: str
    seen: str
    table_keys: tuple[str, ...] = ()
    canonical: str = ""
    revision: str = "main"
    notes: str = ""

    def urls(self) -> list[str]:
        """A ``url`` entry's full addresses: the base joined with each file, or the base alone."""
        base = self.requested_as.rstrip("/")
        return [f"{base}/{name}" for name in self.files] if self.files else [base]


@dataclass(frozen=True)
class Contract:
    entries: tuple[Entry, ...]

    @classmethod
    def load(cls, path: Path = CONTRACT_FILE) -> Contract:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = []
        for raw in data.get("entry", []):
            files = raw.get("files", [])
            entries.append(Entry(
                id=raw["id"], requested_as=raw.get("requested_as") or raw["id"], kind=raw["kind"],
                files=tuple(item["name"] for item in files), sizes=tuple(int(item.get("size", 0)) for item in files),
                profiles=tuple(raw.get("profiles", [])), licence=raw.get("licence", ""),
                gated=bool(raw.get("gated", False)), evidence=raw.get("evidence", ""), seen=raw.get("seen", ""),
                table_keys=tuple(raw.get("table_keys", [])), canonical=raw.get("canonical", ""), revision=raw.get("revision", "main"), notes=raw.get("notes", ""),
            ))
        return cls(tuple(entries))

    def find(self, kind: str, name: str) -> Entry | None:
        """The entry the server sees requests for as ``name`` (its ``requested_as``)."""
        for entry in self.entries:
            if entry.kind == kind and entry.requested_as == name:
                return entry
        return None

    def files_of(self, kind: str, repo_id: str) -> frozenset[str]:
        entry = self.find(kind, repo_id)
        return frozenset(entry.files) if entry else frozenset()

    def for_table_key(self, key: str) -> Entry | None:
        """The entry that answers for a substitution-table value (book, cpu or fallback column)."""
        for entry in self.entries:
            if key in entry.table_keys:
                return entry
        return None

    def table_keys(self) -> set[str]:
        """Every substitution-table value (book, cpu or fallback column) some entry answers for."""
        return {key for entry in self.entries for key in entry.table_keys}

    def urls(self) -> set[str]:
        return {url for entry in self.entries if entry.kind == "url" for url in entry.urls()}
