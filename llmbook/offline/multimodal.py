"""Chapter 9 offline models: tiny CLIP, OpenCLIP and BLIP-2 of the book's classes, real tokenizers.

No CLIP or BLIP-2 weights ship in any PyPI package, so the ``offline`` profile builds small
models of the SAME classes the book loads, with random weights, and saves them the ordinary way
(``save_pretrained``, an ``open_clip_config.json`` folder, a sentence-transformers folder), so the
notebook loads them back through the usual ``from_pretrained`` / ``create_model_and_transforms``
/ ``SentenceTransformer`` paths. The tokenizers are real:

* CLIP: the BPE vocabulary that ships with open-clip-torch (``bpe_simple_vocab_16e6.txt.gz``),
  converted to the ``vocab.json`` + ``merges.txt`` that ``CLIPTokenizerFast`` reads (49,408 ids,
  identical to open_clip's own ``SimpleTokenizer``);
* BLIP-2: the GPT-2 byte-level BPE (the same merges as OPT's tokenizer, whose ids are shifted)
  from llama.cpp's ``ggml-vocab-gpt-2.gguf``, plus an ``<image>`` token.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from . import cached_build
from .sources import package_folder
from .vocabularies import gpt2_tokenizer

# The preprocessing constants of OpenAI's CLIP (also used by BLIP-2's image processor).
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
CLIP_VOCAB_SIZE = 49408
CLIP_BOS, CLIP_EOS = "<|startoftext|>", "<|endoftext|>"

BLIP2_NUM_QUERY_TOKENS = 32  # as in Salesforce/blip2-opt-2.7b
BLIP2_IMAGE_TOKEN = "<image>"
OPT_VOCAB_SIZE = 50272  # OPT-2.7b's embedding rows; must exceed the <image> id


def clip_bpe_file() -> Path:
    """open_clip's CLIP BPE merges file (ships inside open-clip-torch)."""
    return package_folder("open_clip", "open-clip-torch") / "bpe_simple_vocab_16e6.txt.gz"


def clip_vocab_and_merges(bpe_path: Path | None = None) -> tuple[dict[str, int], list[str]]:
    """Rebuild CLIP's vocabulary exactly as open_clip's SimpleTokenizer (and OpenAI's) does."""
    from open_clip.tokenizer import bytes_to_unicode  # the byte table open_clip itself encodes with

    with gzip.open(bpe_path or clip_bpe_file(), "rt", encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    merges = lines[1: 49152 - 256 - 2 + 1]
    byte_chars = list(bytes_to_unicode().values())
    tokens = byte_chars + [c + "</w>" for c in byte_chars]
    tokens += ["".join(merge.split()) for merge in merges]
    tokens += [CLIP_BOS, CLIP_EOS]
    vocab = {token: index for index, token in enumerate(tokens)}
    if len(vocab) != CLIP_VOCAB_SIZE:
        raise ValueError(f"CLIP vocabulary has {len(vocab)} entries, expected {CLIP_VOCAB_SIZE}")
    return vocab, merges


def _write_clip_tokenizer(folder: Path) -> None:
    from transformers import CLIPTokenizerFast

    # transformers 5: pass the vocabulary and merges themselves (a vocab_file= is silently ignored).
    vocab, merges = clip_vocab_and_merges()
    tokenizer = CLIPTokenizerFast(
        vocab=vocab, merges=[tuple(merge.split()) for merge in merges],
        bos_token=CLIP_BOS, eos_token=CLIP_EOS, unk_token=CLIP_EOS, pad_token=CLIP_EOS,
        model_max_length=77,
    )
    tokenizer.save_pretrained(folder)


def build_clip_tokenizer() -> Path:
    """Folder with the real CLIP tokenizer (``CLIPTokenizerFast.from_pretrained`` reads it)."""
    return cached_build("clip-tokenizer", 1, _write_clip_tokenizer, reads=("open-clip-torch",))


def _clip_image_processor():
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(
        do_resize=True, size={"shortest_edge": 224}, do_center_crop=True,
        crop_size={"height": 224, "width": 224}, do_normalize=True,
        image_mean=CLIP_MEAN, image_std=CLIP_STD, do_convert_rgb=True,
    )


def _tiny_clip_config():
    from transformers import CLIPConfig

    # Same image size and patch as ViT-B/32 (so pixel_values are 3x224x224), far fewer weights.
    text = dict(vocab_size=CLIP_VOCAB_SIZE, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=77, bos_token_id=49406, eos_token_id=49407,
                pad_token_id=49407)
    vision = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                  image_size=224, patch_size=32)
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=64)


def _write_tiny_clip(folder: Path) -> None:
    from transformers import CLIPModel, CLIPProcessor, CLIPTokenizerFast

    tokenizer = CLIPTokenizerFast.from_pretrained(build_clip_tokenizer())
    processor = CLIPProcessor(image_processor=_clip_image_processor(), tokenizer=tokenizer)
    model = CLIPModel(_tiny_clip_config()).eval()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


def build_tiny_clip() -> Path:
    """A tiny ``CLIPModel`` + ``CLIPProcessor`` (real CLIP tokenizer), in place of openai/clip-vit-base-patch32."""
    return cached_build("tiny-clip", 1, _write_tiny_clip)


def _write_tiny_st_clip(folder: Path) -> None:
    # The layout of sentence-transformers/clip-ViT-B-32: one CLIPModel module in 0_CLIPModel/.
    shutil.copytree(build_tiny_clip(), folder / "0_CLIPModel", ignore=shutil.ignore_patterns(".complete"))
    modules = [{"idx": 0, "name": "0", "path": "0_CLIPModel", "type": "sentence_transformers.models.CLIPModel"}]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")


def build_tiny_st_clip() -> Path:
    """The tiny CLIP wrapped as a sentence-transformers model, in place of clip-ViT-B-32."""
    return cached_build("tiny-st-clip", 1, _write_tiny_st_clip)


TINY_OPEN_CLIP_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "head_width": 32, "patch_size": 32},
    "text_cfg": {"context_length": 77, "vocab_size": CLIP_VOCAB_SIZE, "width": 64, "heads": 2, "layers": 2},
}


def _write_tiny_open_clip(folder: Path) -> None:
    import open_clip
    from safetensors.torch import save_file

    config = {
        "model_cfg": TINY_OPEN_CLIP_CONFIG,
        "preprocess_cfg": {"mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bicubic",
                           "resize_mode": "shortest"},
    }
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    model = open_clip.CLIP(**TINY_OPEN_CLIP_CONFIG)
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, str(folder / "open_clip_model.safetensors"))


def build_tiny_open_clip() -> Path:
    """A folder that ``open_clip`` loads as ``"local-dir:<folder>"``: tiny ViT-B-32-shaped CLIP, random weights."""
    return cached_build("tiny-open-clip", 1, _write_tiny_open_clip)


def _write_tiny_blip2(folder: Path) -> None:
    from transformers import (
        AutoTokenizer,
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        BlipImageProcessor,
    )

    tokenizer = AutoTokenizer.from_pretrained(gpt2_tokenizer())
    tokenizer.add_special_tokens({"additional_special_tokens": [BLIP2_IMAGE_TOKEN]})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    image_token_id = tokenizer.convert_tokens_to_ids(BLIP2_IMAGE_TOKEN)
    if image_token_id >= OPT_VOCAB_SIZE:
        raise ValueError(f"<image> id {image_token_id} does not fit the text vocabulary ({OPT_VOCAB_SIZE})")
    image_processor = BlipImageProcessor(
        do_resize=True, size={"height": 224, "width": 224}, do_normalize=True,
        image_mean=CLIP_MEAN, image_std=CLIP_STD, do_convert_rgb=True,
    )
    processor = Blip2Processor(image_processor=image_processor, tokenizer=tokenizer,
                               num_query_tokens=BLIP2_NUM_QUERY_TOKENS)
    eos = tokenizer.eos_token_id
    config = Blip2Config(
        vision_config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                           image_size=224, patch_size=14),
        qformer_config=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                            encoder_hidden_size=64, cross_attention_frequency=1, vocab_size=30522),
        text_config=dict(model_type="opt", vocab_size=OPT_VOCAB_SIZE, hidden_size=64, ffn_dim=128,
                         num_hidden_layers=2, num_attention_heads=2, word_embed_proj_dim=64,
                         max_position_embeddings=512, bos_token_id=eos, eos_token_id=eos, pad_token_id=eos),
        num_query_tokens=BLIP2_NUM_QUERY_TOKENS,
        image_token_index=image_token_id,
    )
    model = Blip2ForConditionalGeneration(config).eval()
    model.generation_config.bos_token_id = eos
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = eos
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


def build_tiny_blip2() -> Path:
    """A tiny ``Blip2ForConditionalGeneration`` (ViT + Q-Former + OPT) + ``Blip2Processor`` (real GPT-2 BPE)."""
    return cached_build("tiny-blip2", 1, _write_tiny_blip2)
