"""Chapter 2: sentence embeddings, word vectors and song recommendations, offline."""

import pytest
from gensim.models import KeyedVectors, Word2Vec
from sentence_transformers import SentenceTransformer
from song_and_word_vectors import as_url, load_word_vectors, read_genres, read_playlists, read_songs, similar_song_ids

from llmbook import pick_model
from llmbook.offline import chapter02_assets as assets

PLAYLISTS_URL = "https://storage.googleapis.com/maps-premium/dataset/yes_complete"


@pytest.fixture(autouse=True)
def offline_profile(monkeypatch):
    monkeypatch.setenv("LLMBOOK_PROFILE", "offline")


def test_sentence_embedding_shape_and_a_paraphrase_ranks_above_an_unrelated_sentence():
    model = SentenceTransformer(pick_model("sentence-transformers/all-mpnet-base-v2"))
    vector = model.encode("Best movie ever!")
    assert vector.shape == (384,)  # all-MiniLM-L6-v2 offline (the book's all-mpnet-base-v2: 768)
    query, paraphrase, unrelated = model.encode([
        "Best movie ever!",
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


def test_synthetic_playlists_have_the_books_layout():
    folder = assets.playlist_dataset()
    lines = (folder / "train.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and lines[1].startswith("#")  # the book skips two header lines
    url = as_url(pick_model(PLAYLISTS_URL))
    assert url.startswith("file://")
    playlists = read_playlists(url)
    songs = read_songs(url)
    assert len(playlists) >= assets.N_PLAYLISTS and min(map(len, playlists)) > 1
    assert list(songs.columns) == ["title", "artist"] and len(songs) == 2400
    assert {song for playlist in playlists for song in playlist} == set(songs.index)
    genres = read_genres(url)
    assert genres["2172"] == "metal" and genres["842"] == "hip-hop"


def test_synthetic_playlists_are_deterministic():
    assert assets.synthetic_playlists() == assets.synthetic_playlists()


def test_recommendations_share_the_query_songs_genre():
    url = as_url(pick_model(PLAYLISTS_URL))
    playlists, genres = read_playlists(url), read_genres(url)
    # The book's parameters; one worker and a seed make the test repeatable.
    model = Word2Vec(playlists, vector_size=32, window=20, negative=50, min_count=1, workers=1, seed=42)
    for song_id in ["2172", "842"] + [str(i) for i in range(0, 2400, 97)]:
        top = similar_song_ids(model, song_id, topn=5)
        assert len(top) == 5
        assert sum(genres[other] == genres[song_id] for other in top) >= 4, song_id
