"""Chapter 9, 補充「繁中實戰」: CLIP's real BPE on 繁中 captions (the figures the prose states), and the
Chinese-CLIP path that gpu/cpu run, exercised here on the same-class stand-in the rehearsal Hub serves."""

import re

import nbformat
import numpy as np
import pytest
import torch
from multimodal_helpers import load_photos
from notebook_code import ROOT, assigned_literals, load_definitions, python_source
from opencc import OpenCC
from transformers import ChineseCLIPModel, ChineseCLIPProcessor, CLIPTokenizerFast

from llmbook import pick_model
from llmbook.models import lookup
from llmbook.offline.chinese_clip import build_tiny_chinese_clip, chinese_character_vocabulary

NOTEBOOK = "chapter09/chapter09_multimodal_llms.ipynb"
CN_CLIP = "OFA-Sys/chinese-clip-vit-base-patch16"
ZH_CAPTIONS = assigned_literals(NOTEBOOK, "zh_captions")[0]
LONG_ZH = assigned_literals(NOTEBOOK, "long_zh")[0]
LONG_EN = assigned_literals(NOTEBOOK, "long_en")[0]


def cells() -> dict:
    return {cell.get("id"): cell for cell in nbformat.read(ROOT / NOTEBOOK, as_version=4).cells}


@pytest.fixture(scope="module")
def clip_tokenizer():
    return CLIPTokenizerFast.from_pretrained(pick_model("openai/clip-vit-base-patch32", profile="offline"))


@pytest.fixture(scope="module")
def nb():
    return load_definitions(NOTEBOOK, "characters_within", "caption_similarity", "caption_ranks")


def test_the_section_is_marked_and_at_the_end():
    ids = list(cells())
    section = [i for i in ids if i.startswith("cell-zh")]
    assert ids[-len(section):] == section and cells()["cell-zh01"].source.startswith("## 補充：繁中實戰")
    for cell_id in section:
        cell = cells()[cell_id]
        if cell.cell_type == "code":
            assert cell.source.startswith("# 補充：") and cell.outputs == [] and cell.execution_count is None


def test_characters_within_is_the_longest_prefix_that_fits(nb, clip_tokenizer):
    fit = nb.characters_within(clip_tokenizer, LONG_ZH)
    assert 0 < fit < len(LONG_ZH)
    assert len(clip_tokenizer(LONG_ZH[:fit])["input_ids"]) <= 77 < len(clip_tokenizer(LONG_ZH[:fit + 1])["input_ids"])
    assert nb.characters_within(clip_tokenizer, "一隻貓") == 3  # a short caption fits whole
    with pytest.raises(TypeError):
        nb.characters_within(clip_tokenizer, None)


def test_prose_states_the_measured_clip_figures(nb, clip_tokenizer):
    prose = cells()["cell-zh06"].source
    per_caption = [len(clip_tokenizer.tokenize(text)) for text in ZH_CAPTIONS]
    assert {len(text) for text in ZH_CAPTIONS} == {10} and "三句十個字的說明" in prose
    assert f"各用了 {min(per_caption)}～{max(per_caption)} 個詞元" in prose
    zh_fit = nb.characters_within(clip_tokenizer, LONG_ZH)
    simplified_fit = nb.characters_within(clip_tokenizer, OpenCC("t2s").convert(LONG_ZH))
    en_words = len(LONG_EN[:nb.characters_within(clip_tokenizer, LONG_EN)].split())
    assert f"前 {zh_fit} 個字（簡中版 {simplified_fit} 個）" in prose
    assert f"放得下前 {en_words} 個英文字" in prose
    assert en_words > 2 * zh_fit  # the point of the paragraph: English gets far more into 77 tokens
    assert re.fullmatch(r"[\x20-\x7e]+", LONG_EN) and len(LONG_EN.split()) > en_words  # the English is cut too


def test_offline_branch_is_visible_and_names_the_model():
    code = python_source(cells()["cell-zh07"].source)
    assert 'cn_clip_id = "OFA-Sys/chinese-clip-vit-base-patch16"' in code
    assert 'if profile == "offline":' in code
    assert "ChineseCLIPModel.from_pretrained(cn_clip_path)" in code
    assert 'cn_clip_path = pick_model("OFA-Sys/chinese-clip-vit-base-patch16")' in code
    assert "ChineseCLIPProcessor.from_pretrained(cn_clip_path)" in code
    assert "if cn_model is None:" in python_source(cells()["cell-zh11"].source)


def test_substitution_row_builds_a_same_class_stand_in():
    row = lookup(CN_CLIP)
    assert row.chapters == (9,) and row.cpu == CN_CLIP and row.offline_kind == "random"
    folder = build_tiny_chinese_clip()
    assert pick_model(CN_CLIP, profile="offline") == str(folder)
    assert pick_model(CN_CLIP, profile="gpu") == CN_CLIP
    processor = ChineseCLIPProcessor.from_pretrained(folder)
    model = ChineseCLIPModel.from_pretrained(folder)
    assert type(model).__name__ == "ChineseCLIPModel"
    assert len(processor.tokenizer) == len(chinese_character_vocabulary()) == model.config.text_config.vocab_size
    # the real tokenizer's way: one piece per Chinese character, Traditional and Simplified alike
    for text in ZH_CAPTIONS + [OpenCC("t2s").convert(t) for t in ZH_CAPTIONS]:
        assert processor.tokenizer.tokenize(text) == list(text)


def test_gpu_path_ranks_photos_on_the_stand_in(nb):
    folder = build_tiny_chinese_clip()
    processor, model = ChineseCLIPProcessor.from_pretrained(folder), ChineseCLIPModel.from_pretrained(folder)
    images = load_photos(["cat", "motorcycle", "pagoda"])
    similarity = nb.caption_similarity(model, processor, images, ZH_CAPTIONS)
    simplified = nb.caption_similarity(model, processor, images, [OpenCC("t2s").convert(t) for t in ZH_CAPTIONS])
    assert similarity.shape == simplified.shape == (3, 3)
    assert np.all(np.abs(similarity) <= 1 + 1e-5)
    assert not np.allclose(similarity, simplified)  # different characters, different ids
    # the same computation by hand, one image and one caption at a time
    with torch.no_grad():
        image = model.get_image_features(**processor(images=images[1], return_tensors="pt")).pooler_output[0]
        text = model.get_text_features(**processor(text=ZH_CAPTIONS[2], return_tensors="pt")).pooler_output[0]
    assert similarity[1, 2] == pytest.approx(float(image @ text / (image.norm() * text.norm())), abs=1e-5)
    ranks = nb.caption_ranks(similarity)
    assert len(ranks) == 3 and all(1 <= r <= 3 for r in ranks)
    assert nb.caption_ranks(np.eye(3)) == [1, 1, 1]
    assert nb.caption_ranks(np.array([[0.1, 0.9, 0.5], [0.9, 0.2, 0.1], [0.3, 0.2, 0.8]])) == [3, 2, 1]
