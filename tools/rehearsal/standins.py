"""What the local Hub and the web mirror serve: for every remote name the ``gpu`` and ``cpu``
profiles ask for, a stand-in of the same class and file format, under the real name.

The stand-ins are the offline profile's own builds (``llmbook.offline``), except where the offline
profile swaps in another architecture: the rehearsal then serves a model of the name's class (a tiny
``Phi3ForCausalLM`` on Phi-3's real vocabulary for ``microsoft/Phi-3-mini-4k-instruct``), so the class
a reader's run loads is the class loaded here. GGUF names get a GGUF (see ``SAME_CLASS_BUILDERS``).

Which repositories and URLs exist at all, and which file names each real repository has, is the
Hub contract's business (``contract.py``); this module only says what content stands in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from llmbook.models import build_offline
from llmbook.offline import cached_build
from llmbook.substitutions import SUBSTITUTIONS

from .hub import Repository

# Remote names whose offline stand-in is another architecture: the rehearsal serves one of the
# class the name has (a tiny Phi3ForCausalLM for Phi-3; SmolLM2, a Llama, for the Llama-3.2-based
# Taiwan model; a phi3 GGUF for Phi-3's GGUF files, see ``answering_phi3_gguf``). Every other name
# gets its row's offline builder.
SAME_CLASS_BUILDERS = {
    "microsoft/Phi-3-mini-4k-instruct": "llmbook.offline.phi3:build_tiny_phi3",
    "microsoft/Phi-3-mini-4k-instruct-gguf/Phi-3-mini-4k-instruct-fp16.gguf":
        "tools.rehearsal.standins:answering_phi3_fp16",
    "microsoft/Phi-3-mini-4k-instruct-gguf/Phi-3-mini-4k-instruct-q4.gguf":
        "tools.rehearsal.standins:answering_phi3_q4",
    "lianghsun/Llama-3.2-Taiwan-3B-Instruct": "llmbook.offline.smollm2:build_smollm2",
    "QuantFactory/Llama-3.2-Taiwan-3B-Instruct-GGUF/Llama-3.2-Taiwan-3B-Instruct.Q4_K_M.gguf":
        "llmbook.offline.sources:smollm2_gguf",
}
# The Phi-3 GGUF stand-in answers every prompt with this sentence, its digit picked by the prompt's
# content, then ends with <|end|>. Chapter 7's ReAct agent cannot parse it, so the agent goes through
# handle_parsing_errors up to max_iterations, as with any model that does not keep to the format.
PHI3_STANDIN_ANSWER = "The answer is N."
GENSIM_LIST_URL = "https://raw.githubusercontent.com/RaRe-Technologies/gensim-data/master/list.json"
GENSIM_RELEASES = "https://github.com/RaRe-Technologies/gensim-data/releases/download"
ARXIV_DATASET = "maartengr/arxiv_nlp"
ROOT = Path(__file__).resolve().parents[2]
SKIPPED_NAMES = {".complete", "__init__.py"}


def folder_files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by its relative path, without build markers and Python files."""
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name not in SKIPPED_NAMES and "__pycache__" not in path.parts}


def remote_names(row) -> list[str]:
    """The distinct remote names a row's ``gpu`` and ``cpu`` columns ask for."""
    names = [row.book]
    for name in (row.cpu, row.gpu_without_offload):
        if name and name not in names:
            names.append(name)
    return names


def standin(name: str) -> Path:
    """The stand-in (folder or file) for a remote name of the table: its class where that matters."""
    for row in SUBSTITUTIONS:
        if name in remote_names(row):
            return Path(build_offline(row, SAME_CLASS_BUILDERS.get(name)))
    raise KeyError(name)


def write_answering_phi3(folder: Path) -> None:
    """A tiny ``Phi3ForCausalLM`` on Phi-3's real tokenizer that answers every prompt with
    ``PHI3_STANDIN_ANSWER`` (N a digit that depends on the prompt) and then ends with ``<|end|>``, as
    the real Phi-3 ends its answers.

    Random weights never end an answer, so each of chapter 7's calls would run to ``max_tokens=500``
    (about 20 s each with LangChain's streaming ``LlamaCpp``); SmolLM2, given the book's hand-written
    Phi-3 template, does not end either. The weights are set instead (hidden size 64):

    * axes 0-7 hold a state: every answer token has an axis of its own and every other token shares
      axis 0; the output matrix maps each state to the answer's next token (axis 0 to its first, the
      last token's axis to ``<|end|>``) with a margin no sampling overturns;
    * axes 32-63 hold a random content vector per token outside the answer, and axes 8-11 four random
      scores. In the first layer each of the four heads attends to the prompt's token with the highest
      score of its own (a constant query on axis 31, which every token has; keys on the pair of
      dimensions RoPE turns slowest, so position hardly matters) and adds that token's content to the
      stream. At the digit's state the ten digits tie, and their content rows break the tie: the digit
      follows which tokens the prompt contains, so chapter 5's topics get different labels even with
      greedy decoding (an average over the prompt would follow its most frequent words instead);
    * every other output projection is zero, so nothing else changes the stream.
    """
    import torch
    from transformers import AutoTokenizer, Phi3ForCausalLM

    from llmbook.offline.phi3 import phi3_tokenizer_folder, tiny_phi3_config

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(phi3_tokenizer_folder())
    model = Phi3ForCausalLM(tiny_phi3_config(tokenizer))
    config = model.config
    size, heads = config.hidden_size, config.num_attention_heads
    head_dim = size // heads
    scores, constant, content = slice(8, 8 + heads), 31, slice(32, size)
    digits = tokenizer.convert_tokens_to_ids([str(digit) for digit in range(10)])
    answer = tokenizer.encode(PHI3_STANDIN_ANSWER.replace("N", "0"), add_special_tokens=False)
    slot = answer.index(digits[0])
    if len(set(answer)) != len(answer) or len(answer) >= scores.start or size != 64 or head_dim != 16:
        raise ValueError(f"the answer's tokens must be distinct and fit the state axes: {answer}")
    plain = torch.ones(config.vocab_size, dtype=torch.bool)  # tokens that carry content and scores
    plain[answer + digits + tokenizer.all_special_ids] = False
    plain[tokenizer.convert_tokens_to_ids("<|endoftext|>"):] = False  # Phi-3's added tokens (<|user|>, <|end|> ...)
    end = tokenizer.convert_tokens_to_ids("<|end|>")
    with torch.no_grad():
        embedding, output = model.model.embed_tokens.weight, model.lm_head.weight
        embedding.zero_()
        output.zero_()
        embedding[:, constant] = 1.0
        embedding[:, 0] = 1.0
        embedding[answer + digits, 0] = 0.0
        embedding[plain, scores] = torch.rand(int(plain.sum()), heads)
        embedding[plain, content] = torch.randn(int(plain.sum()), size - content.start)
        for axis, token in enumerate(answer, start=1):
            embedding[digits if axis == slot + 1 else [token], axis] = 1.0
        for axis, successor in enumerate([*answer, end]):
            output[digits if axis == slot else [successor], axis] = 50.0
        output[digits, content] = torch.randn(len(digits), size - content.start)
        for index, layer in enumerate(model.model.layers):
            layer.mlp.down_proj.weight.zero_()
            layer.self_attn.o_proj.weight.zero_()
            if index:
                continue
            qkv = layer.self_attn.qkv_proj.weight  # rows: queries, keys, values (head by head)
            qkv.zero_()
            slowest = head_dim // 2 - 1  # RoPE pairs dimension i with i + head_dim/2; the last pair turns slowest
            for head in range(heads):
                qkv[head * head_dim + slowest, constant] = 2000.0
                qkv[size + head * head_dim + slowest, scores.start + head] = 1.0
                half = content.start + (head % 2) * head_dim  # two heads per half of the content axes
                for offset in range(head_dim):
                    qkv[2 * size + head * head_dim + offset, half + offset] = 1.0
                    layer.self_attn.o_proj.weight[half + offset, head * head_dim + offset] = 1.0
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def answering_phi3_gguf(variant: str) -> Path:
    """``write_answering_phi3``'s model as a phi3 GGUF (``F16`` for the fp16 name, ``Q4_0`` for q4)."""
    from llmbook.offline.phi3 import LLAMA_VOCAB
    from llmbook.offline.phi3_gguf import write_phi3_gguf

    def write(folder: Path) -> None:
        model_folder = folder / "transformers"
        model_folder.mkdir()
        write_answering_phi3(model_folder)
        for name in ("F16", "Q4_0"):
            write_phi3_gguf(model_folder, folder / f"answering-phi3-{name.lower()}.gguf", name)

    return cached_build("rehearsal-answering-phi3-gguf", 1, write, reads=LLAMA_VOCAB) / \
        f"answering-phi3-{variant.lower()}.gguf"


def answering_phi3_fp16() -> Path:
    return answering_phi3_gguf("F16")


def answering_phi3_q4() -> Path:
    return answering_phi3_gguf("Q4_0")


def open_clip_weights(model_name: str) -> Path:
    """A full-size ``model_name`` open_clip checkpoint with random weights (fp16 safetensors).

    open_clip builds ``ViT-B-32`` from its own config whatever the Hub serves, so only a checkpoint of
    the real shape loads; the weights are random (the code path is what is rehearsed).
    """

    def write(folder: Path) -> None:
        import open_clip
        from safetensors.torch import save_file

        model = open_clip.create_model(model_name, pretrained=None)
        state = {name: (tensor.half() if tensor.is_floating_point() else tensor).contiguous()
                 for name, tensor in model.state_dict().items()}
        save_file(state, str(folder / "open_clip_model.safetensors"))

    return cached_build(f"rehearsal-open-clip-{model_name}", 1, write) / "open_clip_model.safetensors"


def arxiv_files() -> dict[str, Path]:
    """The BBC stand-in of ``maartengr/arxiv_nlp`` as the real repository has it: one ``train.csv``
    with the columns the book reads (``Abstracts``, ``Titles``), and a short dataset card."""
    from llmbook.offline.corpora import bbc_news_folder

    def write(folder: Path) -> None:
        import importlib.util

        spec = importlib.util.spec_from_file_location("topic_data", ROOT / "chapter05" / "topic_data.py")
        topic_data = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(topic_data)
        frame = topic_data.read_bbc_articles(bbc_news_folder())[["Abstracts", "Titles"]]
        frame.to_csv(folder / "train.csv", index=False)
        (folder / "README.md").write_text("---\nlicense: mit\n---\n", encoding="utf-8")

    folder = cached_build("rehearsal-arxiv-nlp", 2, write)
    return {"train.csv": folder / "train.csv", "README.md": folder / "README.md"}


def gensim_files(name: str) -> dict[str, Path]:
    """gensim-data's ``list.json`` and one model's release files (``__init__.py`` and ``<name>.gz``).

    The vectors are the offline stand-in's, written in the word2vec text format gensim-data ships;
    ``list.json`` carries their md5, which gensim checks after the download.
    """

    def write(folder: Path) -> None:
        from gensim.models import KeyedVectors

        vectors = KeyedVectors.load(str(standin(name)))
        vectors.save_word2vec_format(str(folder / f"{name}.gz"), binary=False)
        md5 = hashlib.md5((folder / f"{name}.gz").read_bytes()).hexdigest()
        (folder / "__init__.py.txt").write_text(
            "import os\n\nfrom gensim import utils\nfrom gensim.models import KeyedVectors\n\n\n"
            "def load_data():\n"
            f"    path = os.path.join(os.path.dirname(__file__), {name + '.gz'!r})\n"
            "    return KeyedVectors.load_word2vec_format(path)\n",
            encoding="utf-8")
        listing = {"corpora": {}, "models": {name: {
            "num_records": len(vectors), "file_size": (folder / f"{name}.gz").stat().st_size,
            "base_dataset": "llmbook stand-in", "reader_code": "", "license": "", "parameters": {},
            "description": "llmbook rehearsal stand-in", "checksum": md5, "file_name": f"{name}.gz",
            "parts": 1}}}
        (folder / "list.json").write_text(json.dumps(listing), encoding="utf-8")

    folder = cached_build(f"rehearsal-gensim-{name}", 1, write)
    return {GENSIM_LIST_URL: folder / "list.json",
            f"{GENSIM_RELEASES}/{name}/__init__.py": folder / "__init__.py.txt",
            f"{GENSIM_RELEASES}/{name}/{name}.gz": folder / f"{name}.gz"}


def reshaped(repo_id: str, files: dict[str, Path], real: frozenset[str], workdir: Path) -> dict[str, Path]:
    """The stand-in's files laid out as the real repository's (``real``, from the contract).

    Libraries ask for files by name and change course on what they find (``model.safetensors``, else
    the shard index; safetensors, else ``pytorch_model.bin``; the chat template inside
    ``tokenizer_config.json`` or in ``chat_template.jinja``), so a stand-in serves the real names:
    its weights are sharded or pickled as the real ones are, its chat template goes where the real
    repository keeps it, its image processor settings go into the older ``preprocessor_config.json``, its vocabulary
    into the older ``vocab.json``/``merges.txt`` or ``vocab.txt`` where the real one has no ``tokenizer.json``, and files the real repository does not have are not served (the Hub answers
    404 for them, as it would for a reader). With no file list in the contract, nothing changes.
    """
    if not real:
        return files
    out = workdir / repo_id.replace("/", "--")
    files = dict(files)
    folders = sorted({name.rpartition("/")[0] + "/" if "/" in name else "" for name in files})
    for folder in folders:  # "" is the repository's top; sentence-transformers keeps a model in 0_CLIPModel/
        def here(name: str, folder: str = folder) -> str:
            return f"{folder}{name}"

        if here("model.safetensors") in files and here("model.safetensors") not in real:
            shards = sorted(n for n in real if n.startswith(here("model-")) and n.endswith(".safetensors"))
            if shards and here("model.safetensors.index.json") in real:
                files.update(shard_safetensors(files.pop(here("model.safetensors")), folder, shards, out))
            elif here("pytorch_model.bin") in real:
                files[here("pytorch_model.bin")] = pickle_safetensors(files.pop(here("model.safetensors")),
                                                                     out / here("pytorch_model.bin"))
        if (here("preprocessor_config.json") in real and here("preprocessor_config.json") not in files
                and here("processor_config.json") in files):
            files[here("preprocessor_config.json")] = legacy_preprocessor_config(
                files.pop(here("processor_config.json")), out / here("preprocessor_config.json"))
        if here("tokenizer.json") in files and here("tokenizer.json") not in real:
            written = vocabulary_files(files[here("tokenizer.json")], real, folder, out)
            for name, path in written.items():
                files.setdefault(name, path)
        if (here("chat_template.jinja") in files and here("chat_template.jinja") not in real
                and here("tokenizer_config.json") in files):
            files[here("tokenizer_config.json")] = embed_chat_template(
                files[here("tokenizer_config.json")], files.pop(here("chat_template.jinja")),
                out / here("tokenizer_config.json"))
    return {name: path for name, path in files.items() if name in real}


def shard_safetensors(source: Path, folder: str, shard_names: list[str], out: Path) -> dict[str, Path]:
    """Split one safetensors file into the real repository's shards, with the index that names them."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(source), framework="pt") as reader:
        metadata = reader.metadata()
        tensors = {key: reader.get_tensor(key) for key in reader.keys()}
    keys = list(tensors)
    per_shard = -(-len(keys) // len(shard_names))
    weight_map, written = {}, {}
    for position, shard in enumerate(shard_names):
        part = keys[position * per_shard:(position + 1) * per_shard]
        target = out / shard
        target.parent.mkdir(parents=True, exist_ok=True)
        save_file({key: tensors[key].contiguous() for key in part}, str(target), metadata=metadata)
        weight_map.update({key: shard.rpartition("/")[2] for key in part})
        written[shard] = target
    total = sum(tensor.numel() * tensor.element_size() for tensor in tensors.values())
    index = out / f"{folder}model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    written[f"{folder}model.safetensors.index.json"] = index
    return written


def pickle_safetensors(source: Path, target: Path) -> Path:
    """The same tensors as a ``pytorch_model.bin`` (torch.save), for repositories that ship only that."""
    import torch
    from safetensors.torch import load_file

    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(load_file(str(source)), target)
    return target


def vocabulary_files(tokenizer_json: Path, real: frozenset[str], folder: str, out: Path) -> dict[str, Path]:
    """The vocabulary files an older repository ships instead of ``tokenizer.json`` (a BPE's
    ``vocab.json`` + ``merges.txt``, a WordPiece's ``vocab.txt``), written from the stand-in's
    ``tokenizer.json``, so the tokenizer is built the way it is built from the real repository."""
    model = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]
    target = out / folder
    target.mkdir(parents=True, exist_ok=True)
    if model["type"] == "BPE" and {f"{folder}vocab.json", f"{folder}merges.txt"} <= real:
        (target / "vocab.json").write_text(json.dumps(model["vocab"], ensure_ascii=False), encoding="utf-8")
        merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
        (target / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
        return {f"{folder}vocab.json": target / "vocab.json", f"{folder}merges.txt": target / "merges.txt"}
    if model["type"] == "WordPiece" and f"{folder}vocab.txt" in real:
        by_id = sorted(model["vocab"].items(), key=lambda item: item[1])
        (target / "vocab.txt").write_text("".join(f"{token}\n" for token, _ in by_id), encoding="utf-8")
        return {f"{folder}vocab.txt": target / "vocab.txt"}
    return {}


def legacy_preprocessor_config(processor_config: Path, target: Path) -> Path:
    """The image processor's settings as ``preprocessor_config.json``, the file older repositories
    (CLIP, Chinese-CLIP) ship instead of transformers 5's ``processor_config.json``."""
    data = json.loads(processor_config.read_text(encoding="utf-8"))
    settings = dict(data.get("image_processor", data))
    if "processor_class" in data:
        settings["processor_class"] = data["processor_class"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    return target


def embed_chat_template(config: Path, template: Path, target: Path) -> Path:
    """``tokenizer_config.json`` with the chat template inside it, where the real repository keeps it."""
    data = json.loads(config.read_text(encoding="utf-8"))
    data["chat_template"] = template.read_text(encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return target


def served(contract, workdir: Path) -> tuple[list[Repository], dict[str, Path]]:
    """``(repositories, web files)`` for every remote name of the substitution table, under the name
    the contract says the libraries ask for, each laid out as the contract says the real one is."""
    repos: dict[tuple[str, str], dict[str, Path]] = {}
    web: dict[str, Path] = {}

    def add(kind: str, repo_id: str, files: dict[str, Path]) -> None:
        repos.setdefault((kind, repo_id), {}).update(files)

    for row in SUBSTITUTIONS:
        for name in remote_names(row):
            entry = contract.for_table_key(name)
            if name.startswith(("http://", "https://")):
                web.update({f"{name}/{rel}": path for rel, path in folder_files(standin(name)).items()})
            elif name == "glove-wiki-gigaword-50":
                web.update(gensim_files(name))
            elif name.startswith("open_clip/"):
                import open_clip

                _, model_name, tag = name.split("/", 2)
                repo_id = open_clip.get_pretrained_cfg(model_name, tag)["hf_hub"].strip("/")
                add("model", repo_id, {"open_clip_model.safetensors": open_clip_weights(model_name)})
            elif name.endswith(".gguf"):
                repo_id, _, filename = name.rpartition("/")
                add("model", repo_id, {filename: standin(name)})
            elif name == ARXIV_DATASET:
                add("dataset", name, arxiv_files())
            else:
                add("model", entry.requested_as if entry else name, folder_files(standin(name)))
    repositories = []
    for (kind, repo_id), files in sorted(repos.items()):
        real = contract.files_of(kind, repo_id)
        repositories.append(Repository(repo_id, kind, reshaped(repo_id, files, real, workdir), real))
    # Only the addresses the contract lists (the stand-in folders hold extras, e.g. the genre labels).
    urls = contract.urls()
    return repositories, {url: path for url, path in web.items() if url in urls}
