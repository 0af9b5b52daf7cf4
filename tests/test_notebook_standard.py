"""Every chapter notebook follows the notebook standard (tools/notebooks.py)."""

import re
from pathlib import Path

import nbformat
import pytest

from llmbook.pins import normalise, requirement_pins
from tools.notebooks import (COLAB_CLONE_DIR, COLAB_PACKAGES, COLAB_UPGRADES, COLAB_WITH_OPENAI_KEY, NOTEBOOK_METADATA,
                             RELEASE, REPOSITORY, colab_preinstalled, opening_cells, parse_opening)
from tools.run_notebooks import CHAPTERS as CHAPTER_LIST
from tools.run_notebooks import LLAMA_CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in ROOT.glob("chapter*") if p.is_dir())
NOTEBOOKS = sorted(ROOT.glob("chapter*/*.ipynb"))
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def code_sources(nb):
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def test_every_chapter_has_a_notebook_and_a_readme():
    assert [p.name for p in CHAPTERS] == list(CHAPTER_LIST)  # the one chapter list matches the folders
    for chapter in CHAPTERS:
        assert (chapter / "README.md").exists(), chapter.name
        assert list(chapter.glob("*.ipynb")), chapter.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_name_is_ascii_without_spaces(path):
    assert re.fullmatch(r"chapter\d\d_[a-z0-9_]+\.ipynb", path.name), path.name
    assert path.name.startswith(path.parent.name + "_")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_opening_cells_follow_the_standard(path):
    nb = nbformat.read(path, as_version=4)
    opening = parse_opening(nb)
    assert opening["chapter"] == int(path.parent.name.removeprefix("chapter"))
    assert opening["title"].startswith(f"第 {opening['chapter']} 章")
    expected = opening_cells(path, opening["chapter"], opening["title"])
    actual = [(cell.cell_type, cell.source) for cell in nb.cells[:3]]
    assert actual == expected
    assert REPOSITORY.removeprefix("https://") in nb.cells[0].source.replace("colab.research.google.com/github/", "github.com/")
    assert REPOSITORY in nb.cells[1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_colab_installs_only_pinned_packages_and_never_torch(path):
    nb = nbformat.read(path, as_version=4)
    pins = requirement_pins()
    specs = re.findall(r'"([A-Za-z0-9_.\-]+==[^"]+)"', nb.cells[1].source)
    for spec in specs:
        assert pins[spec.split("==")[0].lower()] == spec
        assert not spec.startswith(("torch==", "torchvision=="))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_colab_keeps_its_own_packages_and_clones_the_release_the_badge_opens(path):
    nb = nbformat.read(path, as_version=4)
    setup = nb.cells[1].source
    preinstalled = colab_preinstalled()
    assert "torch" in preinstalled and "transformers" in preinstalled  # the snapshot was read
    # only with an OpenAI key (it needs a newer certifi, and the cell says so): tests/test_colab_setup_cell.py
    with_key = {normalise(name) for name in COLAB_WITH_OPENAI_KEY.get(path.parent.name, ())}
    for name in re.findall(r'"([A-Za-z0-9_.\-]+)==', setup):
        assert normalise(name) not in preinstalled or normalise(name) in set(COLAB_UPGRADES) | with_key, name
    assert f'clone_helpers("{REPOSITORY}", "{RELEASE}", "{COLAB_CLONE_DIR}")' in setup
    assert f"/blob/{RELEASE}/{path.parent.name}/{path.name})" in nb.cells[0].source
    assert "GIT_TERMINAL_PROMPT" in setup  # a failed clone never waits for a password (messages: test_colab_setup_cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_openai_chapters_read_the_key_from_colab_secrets(path):
    setup = nbformat.read(path, as_version=4).cells[1].source
    uses_openai = "openai" in COLAB_PACKAGES[path.parent.name]
    assert ('userdata.get("OPENAI_API_KEY")' in setup) == uses_openai
    if uses_openai:  # Colab's three exceptions for "no usable secret" are caught; nothing else is
        assert "userdata.SecretNotFoundError, userdata.NotebookAccessError, userdata.TimeoutException" in setup
        assert setup.index("userdata.get") > setup.index("IS_COLAB:")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_opening_says_how_to_choose_a_profile(path):
    title = nbformat.read(path, as_version=4).cells[0].source
    assert "%env LLMBOOK_PROFILE=" in title and all(f"`{name}`" in title for name in ("gpu", "cpu", "offline"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_forbidden_code(path):
    nb = nbformat.read(path, as_version=4)
    for source in code_sources(nb):
        assert not re.search(r"""["']cuda(:\d+)?["']""", source), source
        assert "trust_remote_code=True" not in source
        assert not re.search(r"[A-Za-z_]*API_KEY\s*=\s*[\"']", source), "no keys in notebooks"
        for line in source.splitlines():
            stripped = line.strip()
            if stripped.startswith(("!pip", "%pip", "!python -m pip")):
                for word in stripped.split()[2:]:
                    if re.search(r"[<>=]", word):
                        assert word[0] in "\"'" and word[-1] == word[0], f"unquoted specifier: {line}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_book_ids_stay_visible(path):
    nb = nbformat.read(path, as_version=4)
    for source in code_sources(nb):
        for call in re.findall(r"(?:pick_model|hub_file)\(([^)]*)\)", source):
            assert call.strip().startswith(("'", '"')), f"the book's id must be written in the cell: {call}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_markdown_before_every_code_cell(path):
    nb = nbformat.read(path, as_version=4)
    for before, cell in zip(nb.cells[2:], nb.cells[3:]):
        if cell.cell_type == "code":
            assert before.cell_type == "markdown", f"code cell without an explanation: {cell.source[:80]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_cells_stay_small(path):
    nb = nbformat.read(path, as_version=4)
    lengths = [len(source.splitlines()) for source in code_sources(nb)[2:]]
    assert max(lengths) <= 50
    assert sorted(lengths)[len(lengths) // 2] <= 8, "median code cell should be a few lines"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_colab_opens_on_a_t4_gpu_runtime(path):
    nb = nbformat.read(path, as_version=4)
    for key, value in NOTEBOOK_METADATA.items():
        assert nb.metadata.get(key) == value, key


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_llama_cpp_is_built_in_its_own_step_after_the_other_packages(path):
    setup = nbformat.read(path, as_version=4).cells[1].source
    assert '"llama-cpp-python==' not in setup  # never a plain pip install: that build crashes on AMX CPUs
    if path.parent.name in LLAMA_CHAPTERS:
        assert setup.index("%pip install") < setup.index("tools/llama_build.py")
    else:
        assert "llama_build" not in setup
