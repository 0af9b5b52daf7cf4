"""The rehearsal tier: every notebook, unchanged, under the ``gpu`` and ``cpu`` profiles' code paths
and the OpenAI branch, against local services on loopback (tools/rehearsal, tests/README.md).

Each run must pass every cell, ask for nothing outside the Hub contract, and fetch exactly the remote
names its profile's column of the substitution table gives for that chapter -- so a typo in a
``gpu``-only id, file name or keyword fails here, naming the notebook and the cell.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmbook.substitutions import SUBSTITUTIONS
from tools.rehearsal.contract import Contract
from tools.rehearsal.run import OPENAI_CHAPTERS, Rehearsal

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(path.relative_to(ROOT).as_posix() for path in ROOT.glob("chapter*/*.ipynb"))
RUNS = [(notebook, mode) for notebook in NOTEBOOKS for mode in ("cpu", "gpu")]
CONTRACT = Contract.load()  # also says what each table name is asked for as (sentence-transformers, open_clip, gensim)
RUNS += [(notebook, "openai") for notebook in NOTEBOOKS if notebook.split("/")[0] in OPENAI_CHAPTERS]


# One per test process: under xdist a worker leaves this module between notebooks, and a module-scoped
# fixture would set the services up again each time it came back.
@pytest.fixture(scope="session")
def rehearsal(tmp_path_factory):
    with Rehearsal(tmp_path_factory.mktemp("rehearsal")) as running:
        yield running


def chapter_of(notebook: str) -> int:
    return int(notebook.split("/")[0].removeprefix("chapter"))


# Where a branch loads something else than the chapter's table rows say: chapter 5 names topics with
# the book's Phi-3 through transformers under gpu (the Phi-3 row), with OpenAI when a key is set, and
# with the GGUF through llama.cpp only under cpu/offline without a key (the GGUF row).
CHAPTER5_GGUF = "microsoft/Phi-3-mini-4k-instruct-gguf/Phi-3-mini-4k-instruct-fp16.gguf"
BRANCHES = {
    (5, "gpu"): {"adds": {"microsoft/Phi-3-mini-4k-instruct"}, "drops": {CHAPTER5_GGUF}},
    (5, "openai"): {"adds": set(), "drops": {CHAPTER5_GGUF}},
}


def expected_names(chapter: int, mode: str) -> set[str]:
    """The remote names the table's column for ``mode`` gives for ``chapter`` (how the fetched
    names are written: ``repo/file`` prefixes for the Hub, URL prefixes for the web)."""
    names = set()
    branch = BRANCHES.get((chapter, mode), {"adds": set(), "drops": set()})
    for row in SUBSTITUTIONS:
        if (chapter not in row.chapters and row.book not in branch["adds"]) or row.book in branch["drops"]:
            continue
        name = row.book if mode == "gpu" else row.cpu
        if mode == "gpu" and row.gpu_without_offload:  # no CUDA here: llama.cpp cannot offload
            name = row.gpu_without_offload
        if not name.endswith(".gguf"):  # a GGUF is checked by its file; the rest by the name on the wire
            name = CONTRACT.for_table_key(name).requested_as
        names.add(name)
    return names


@pytest.mark.parametrize("notebook,mode", RUNS, ids=[f"{nb.split('/')[0]}-{mode}" for nb, mode in RUNS])
def test_notebook_rehearsal(rehearsal, notebook, mode, tmp_path):
    run = rehearsal.run(ROOT / notebook, mode, tmp_path)
    fetched = run.fetched()
    missing = sorted(name for name in expected_names(chapter_of(notebook), mode)
                     if not any(f == name or f.startswith(f"{name}/") for f in fetched))
    assert not missing, f"{notebook} ({mode}) never fetched {missing}; it fetched {sorted(fetched)}"
    if mode == "openai":
        assert run.openai_calls > 0, f"{notebook}: the OpenAI branch never reached the OpenAI-compatible server"


def test_contract_covers_the_substitution_table():
    contract = Contract.load()
    for row in SUBSTITUTIONS:
        for name in {row.book, row.cpu, row.gpu_without_offload} - {""}:
            assert name in contract.table_keys(), f"{name}: in llmbook/substitutions.py but not in the Hub contract"


def test_every_gguf_the_table_names_is_a_file_of_its_contract_repository():
    contract = Contract.load()
    for row in SUBSTITUTIONS:
        for name in {row.book, row.cpu, row.gpu_without_offload} - {""}:
            if name.endswith(".gguf"):
                repo, _, filename = name.rpartition("/")
                assert filename in contract.files_of("model", repo), f"{name}: no such file in the contract"


def test_contract_entries_carry_evidence_or_say_why_not():
    for entry in Contract.load().entries:
        assert entry.kind in ("model", "dataset", "url"), entry.id
        assert entry.evidence.startswith("https://") or entry.notes, f"{entry.id}: no evidence and no note why"
        if entry.evidence:
            assert entry.seen, f"{entry.id}: evidence without the date it was seen"
