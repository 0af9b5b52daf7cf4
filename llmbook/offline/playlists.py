"""Synthetic playlists in the layout of the book's data set (``train.txt``, ``song_hash.txt``).

Nothing ships the book's playlists (Shuo Chen's yes_complete), so the offline profile makes a small
set with real structure: playlists drawn mostly from one genre and a few favourite artists, so that
word2vec learns songs of a genre as neighbours. The notebook says the data is synthetic.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import cached_build

VERSION = 1

GENRES = ("metal", "hip-hop", "country", "jazz", "classical", "pop", "electronic", "reggae")
SONGS_PER_GENRE = 300
SONGS_PER_ARTIST = 10
N_PLAYLISTS = 3000
IN_GENRE_SHARE = 0.9
FAVOURITE_SHARE = 0.35  # share of songs by the two favourite artists of a playlist (within IN_GENRE_SHARE)
# The book asks for songs 2172 (metal) and 842 (hip-hop); the synthetic set keeps those genres.
FIXED_GENRES = {2172: "metal", 842: "hip-hop"}


def synthetic_song_genres(seed: int = 0) -> list[str]:
    """The genre of every synthetic song id (0 … 2399), deterministic."""
    import numpy as np

    rng = np.random.default_rng(seed)
    genres = [GENRES[i] for i in rng.permutation(np.repeat(np.arange(len(GENRES)), SONGS_PER_GENRE))]
    for song_id, genre in FIXED_GENRES.items():
        if genres[song_id] != genre:  # swap with a song of the wanted genre
            other = next(i for i, g in enumerate(genres) if g == genre and i not in FIXED_GENRES)
            genres[song_id], genres[other] = genres[other], genres[song_id]
    return genres


def synthetic_playlists(seed: int = 0) -> tuple[list[list[int]], list[tuple[int, str, str]], list[str]]:
    """(playlists, songs as (id, title, artist), genres): playlists mostly stay in one genre."""
    import numpy as np

    rng = np.random.default_rng(seed)
    genres = synthetic_song_genres(seed)
    by_genre = {g: [i for i, x in enumerate(genres) if x == g] for g in GENRES}
    for song_id, genre in FIXED_GENRES.items():  # the book's two example songs are well known
        by_genre[genre].remove(song_id)
        by_genre[genre].insert(0, song_id)
    songs = []
    for genre, ids in by_genre.items():
        for rank, song_id in enumerate(ids):
            artist = f"Synthetic {genre.title()} Artist {rank // SONGS_PER_ARTIST + 1:02d}"
            songs.append((song_id, f"{genre.title()} Track {rank + 1:03d}", artist))
    songs.sort()
    # Some songs are played more often than others (a mild popularity curve), as on real radio.
    weights = 1.0 / (np.arange(SONGS_PER_GENRE) + 20.0)
    weights /= weights.sum()
    all_ids = np.arange(len(genres))
    playlists = []
    for _ in range(N_PLAYLISTS):
        genre = GENRES[rng.integers(len(GENRES))]
        length = int(rng.integers(8, 31))
        pool = by_genre[genre]
        # A station favours a few artists of its genre: songs by one artist end up closest.
        favourites = rng.choice(SONGS_PER_GENRE // SONGS_PER_ARTIST, size=2, replace=False)
        favourite_songs = [pool[a * SONGS_PER_ARTIST + k] for a in favourites for k in range(SONGS_PER_ARTIST)]
        playlist = []
        for _ in range(length):
            draw = rng.random()
            if draw < FAVOURITE_SHARE:
                playlist.append(int(favourite_songs[rng.integers(len(favourite_songs))]))
            elif draw < IN_GENRE_SHARE:
                playlist.append(int(pool[rng.choice(SONGS_PER_GENRE, p=weights)]))
            else:
                playlist.append(int(rng.choice(all_ids)))
        playlists.append(playlist)
    # Every song shows up at least once, so that every id has an embedding (min_count=1).
    seen = {s for p in playlists for s in p}
    for genre, ids in by_genre.items():
        missing = [s for s in ids if s not in seen]
        for start in range(0, len(missing), 10):
            filler = missing[start:start + 10] + [int(pool_id) for pool_id in ids[:5]]
            playlists.append(filler)
    return playlists, songs, genres


def _write_playlists(folder: Path) -> None:
    playlists, songs, genres = synthetic_playlists()
    with open(folder / "train.txt", "w", encoding="utf-8") as out:
        out.write("# llmbook synthetic playlists (chapter 2 offline stand-in), same layout as yes_complete\n")
        out.write(f"# {len(playlists)} playlists over {len(songs)} songs in {len(GENRES)} genres\n")
        out.writelines(" ".join(str(s) for s in playlist) + " \n" for playlist in playlists)
    with open(folder / "song_hash.txt", "w", encoding="utf-8") as out:
        out.writelines(f"{song_id}\t{title}\t{artist}\n" for song_id, title, artist in songs)
    with open(folder / "genres.txt", "w", encoding="utf-8") as out:
        out.writelines(f"{song_id}\t{genre}\n" for song_id, genre in enumerate(genres))
    (folder / "info.json").write_text(json.dumps({"synthetic": True, "genres": list(GENRES)}) + "\n")


def playlist_dataset() -> Path:
    """A folder with ``train.txt`` and ``song_hash.txt`` in the book's format, made up here."""
    return cached_build("ch02-synthetic-playlists", VERSION, _write_playlists)
