"""The README shows the substitution table exactly as the data says, and the two commands."""

from pathlib import Path

from tools.readme import BEGIN, END, render_table

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_matches_the_data():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, stop = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[start:stop] == render_table(), "run `python -m tools.readme --write`"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 book.py run" in readme and "python3 book.py test" in readme
    assert "exec python3 book.py test" in (ROOT / ".ci" / "run").read_text()


def test_readme_links_every_notebook_with_its_colab_badge():
    from tools.notebooks import colab_url

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for notebook in sorted(ROOT.glob("chapter*/*.ipynb")):
        relative = notebook.relative_to(ROOT).as_posix()
        assert f"({relative})" in readme, relative
        assert colab_url(notebook) in readme, relative
