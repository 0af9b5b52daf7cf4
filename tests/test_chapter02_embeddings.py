"""Chapter 2: sentence embeddings, word vectors, and the notebook's own playlist reading and
print_recommendations, run offline on the synthetic playlists."""

import os

import nbformat
import pytest
from gensim.models import KeyedVectors, Word2Vec
from notebook_code import ROOT, load_definitions, python_source
from sentence_transformers import SentenceTransformer
from song_and_word_vectors import as_url, load_word_vectors

from llmbook import pick_model
from llmbook.offline import playlists as synthetic

NOTEBOOK = "chapter02/chapter02_tokens_embeddings.ipynb"
PLAYLISTS_URL = "https://storage.googleapis.com/maps-premium/dataset/yes_complete"


@pytest.fixture(autouse=True)
def offline_profile(monkeypatch):
    monkeypatch.setenv("LLMBOOK_PROFILE", "offline")


def notebook_code_cells(containing: str) -> list[str]:
    """The notebook's code cells whose source contains ``containing``, in notebook order."""
    nb = nbformat.read(ROOT / NOTEBOOK, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code" and containing in cell.source]


@pytest.fixture(scope="module")
def notebook_playlists():
    """Run the notebook's own download-and-parse cells (urllib + pandas) on the synthetic files."""
    data_url = as_url(pick_model(PLAYLISTS_URL, "offline"))
    namespace = {"data_url": data_url}
    cells = notebook_code_cells("request.urlopen(")
    assert len(cells) == 2  # train.txt, then song_hash.txt
    for source in cells:
        exec(compile(python_source(source), NOTEBOOK, "exec"), namespace)
    return namespace["playlists"], namespace["songs_df"]


def genres_of_synthetic_songs() -> dict[str, str]:
    lines = (synthetic.playlist_dataset() / "genres.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t") for line in lines if line.strip())


def test_sentence_embedding_shape_and_a_paraphrase_ranks_above_an_unrelated_sentence():
    model = SentenceTransformer(pick_model("sentence-transformers/all-mpnet-base-v2"))
    vector = model.encode("What a wonderful film!")
    assert vector.shape == (384,)  # all-MiniLM-L6-v2 offline (the book's all-mpnet-base-v2: 768)
    query, paraphrase, unrelated = model.encode([
        "What a wonderful film!",
        "This film was fantastic, I loved every minute.",
        "The stock market fell sharply on Monday.",
    ])
    scores = model.similarity([query], [paraphrase, unrelated])[0]
    assert scores[0] > scores[1] + 0.2


def test_word_vectors_load_through_keyedvectors_with_glove_dimensions():
    path = pick_model("glove-wiki-gigaword-50")
    vectors = load_word_vectors(path)
    assert isinstance(vectors, KeyedVectors)
    assert vectors.vector_size == 50 and len(vectors) > 5000
    neighbours = vectors.most_similar([vectors["king"]], topn=11)
    assert neighbours[0][0] == "king" and len(neighbours) == 11
    assert {"phone", "phones"} & {word for word, _ in vectors.most_similar("mobile", topn=5)}


def test_books_ids_pass_through_in_the_gpu_and_cpu_profiles():
    for profile in ("gpu", "cpu"):
        assert pick_model("glove-wiki-gigaword-50", profile) == "glove-wiki-gigaword-50"
        assert pick_model(PLAYLISTS_URL, profile) == PLAYLISTS_URL
    assert as_url(PLAYLISTS_URL + "/") == PLAYLISTS_URL
    assert as_url(str(synthetic.playlist_dataset())).startswith("file://")


def test_notebook_reads_the_synthetic_playlists_in_the_books_layout(notebook_playlists):
    playlists, songs_df = notebook_playlists
    lines = (synthetic.playlist_dataset() / "train.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and lines[1].startswith("#")  # the two header lines the notebook skips
    assert len(playlists) >= synthetic.N_PLAYLISTS and min(map(len, playlists)) > 1
    assert all(song.isdigit() for playlist in playlists for song in playlist)
    assert list(songs_df.columns) == ["title", "artist"] and len(songs_df) == 2400
    assert {song for playlist in playlists for song in playlist} == set(songs_df.index)
    # The notebook looks songs up by position (iloc), as the book does: row n must be song id n.
    assert songs_df.iloc[2172].name == "2172" and songs_df.iloc[842].name == "842"
    genres = genres_of_synthetic_songs()
    assert genres["2172"] == "metal" and genres["842"] == "hip-hop"


def test_synthetic_playlists_are_the_same_in_another_process_and_change_with_the_seed():
    import hashlib
    import subprocess
    import sys

    code = ("import hashlib; from llmbook.offline.playlists import synthetic_playlists; "
            "print(hashlib.sha256(repr(synthetic_playlists()).encode()).hexdigest())")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                           env={**os.environ, "PYTHONHASHSEED": "random"}).stdout.strip()
    here = hashlib.sha256(repr(synthetic.synthetic_playlists()).encode()).hexdigest()
    assert here == there
    assert synthetic.synthetic_playlists(seed=1) != synthetic.synthetic_playlists()  # the seed is what fixes them


def test_notebook_trains_word2vec_with_the_books_parameters():
    (call,) = notebook_code_cells("Word2Vec(playlists")
    assert "vector_size=32, window=20, negative=50, min_count=1, workers=4" in call


def test_print_recommendations_returns_five_songs_of_the_query_songs_genre(notebook_playlists):
    playlists, songs_df = notebook_playlists
    nb = load_definitions(NOTEBOOK, "print_recommendations")
    # The book's parameters; one worker and a seed make the test repeatable.
    nb.model = Word2Vec(playlists, vector_size=32, window=20, negative=50, min_count=1, workers=1, seed=42)
    nb.songs_df = songs_df
    genres = genres_of_synthetic_songs()
    for song_id in [2172, 842, *range(0, 2400, 97)]:
        recommended = nb.print_recommendations(song_id)
        closest = [other for other, _ in nb.model.wv.most_similar(positive=str(song_id), topn=5)]
        assert list(recommended.index) == closest  # the model's 5 nearest songs, in order
        assert list(recommended.columns) == ["title", "artist"]
        assert str(song_id) not in recommended.index
        assert sum(genres[other] == genres[str(song_id)] for other in recommended.index) >= 4, song_id
        # the synthetic artist names carry the genre: what the reader sees agrees
        assert recommended["artist"].str.contains(genres[str(song_id)].title()).sum() >= 4
