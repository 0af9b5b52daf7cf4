"""Chapter 9 補充「繁中實戰」: a tiny stand-in for OFA-Sys/chinese-clip-vit-base-patch16.

No Chinese-CLIP weights ship in any PyPI package. The stand-in is the SAME class the notebook loads
(``ChineseCLIPModel`` + ``ChineseCLIPProcessor``), with random weights and a small config, saved with
``save_pretrained`` so that ``from_pretrained`` reads it back as it reads the real repository (the
rehearsal's local Hub serves this folder under the real id).

The real text encoder (RoBERTa-wwm, BERT's WordPiece) splits Chinese into single characters. The
stand-in's vocabulary is built the same way from what Python itself knows: BERT's five special
tokens, printable ASCII with ``##`` continuations, common CJK punctuation, and every CJK character of
the Big5 (Taiwan) and GB2312 (mainland) character sets. The pieces of a Chinese caption are therefore
the same characters as with the real tokenizer; the ids are not the real ones.
"""

from __future__ import annotations

from pathlib import Path

from . import cached_build

VERSION = 1
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CJK_PUNCTUATION = "，。、；：？！「」『』（）《》〈〉…—～·‧"


def _in_charset(character: str, encoding: str) -> bool:
    try:
        character.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def chinese_character_vocabulary() -> list[str]:
    """BERT-style vocabulary: specials, ASCII (+ ``##`` pieces), CJK punctuation, Big5 ∪ GB2312 characters."""
    ascii_tokens = [chr(code) for code in range(33, 127)]
    continuations = ["##" + c for c in "0123456789abcdefghijklmnopqrstuvwxyz"]
    han = [chr(code) for code in range(0x4E00, 0xA000)
           if _in_charset(chr(code), "big5") or _in_charset(chr(code), "gb2312")]
    return SPECIAL_TOKENS + ascii_tokens + continuations + list(CJK_PUNCTUATION) + han


def _write_tiny_chinese_clip(folder: Path) -> None:
    from transformers import (
        BertTokenizer,
        ChineseCLIPConfig,
        ChineseCLIPImageProcessor,
        ChineseCLIPModel,
        ChineseCLIPProcessor,
    )

    vocabulary = chinese_character_vocabulary()
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    # transformers 5: BertTokenizer(vocab_file=...) builds a 5-token vocabulary; from_pretrained reads it all.
    tokenizer = BertTokenizer.from_pretrained(folder, do_lower_case=True)
    if len(tokenizer) != len(vocabulary):
        raise ValueError(f"tokenizer has {len(tokenizer)} tokens, the vocabulary {len(vocabulary)}")
    text = {"vocab_size": len(vocabulary), "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 128, "max_position_embeddings": 512}
    # Same image size and patch as ViT-B/16 (pixel_values 3x224x224), far fewer weights.
    vision = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128,
              "image_size": 224, "patch_size": 16}
    model = ChineseCLIPModel(ChineseCLIPConfig(text_config=text, vision_config=vision, projection_dim=64))
    image_processor = ChineseCLIPImageProcessor(size={"height": 224, "width": 224}, do_center_crop=False,
                                                image_mean=CLIP_MEAN, image_std=CLIP_STD)
    model.save_pretrained(folder)
    ChineseCLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)


def build_tiny_chinese_clip() -> Path:
    """A tiny ``ChineseCLIPModel`` + ``ChineseCLIPProcessor`` in place of OFA-Sys/chinese-clip-vit-base-patch16."""
    return cached_build("tiny-chinese-clip", VERSION, _write_tiny_chinese_clip)
