"""Chapter 9 offline models: the book's classes, tiny, with the real CLIP and GPT-2 tokenizers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from multimodal_helpers import l2_normalize, load_photos

from llmbook.offline.multimodal import (
    build_clip_tokenizer,
    build_tiny_clip,
    build_tiny_open_clip,
    build_tiny_st_clip,
    clip_vocab_and_merges,
)
from llmbook.offline.vocabularies import gpt2_tokenizer

CAPTIONS = ["a puppy playing in the snow", "A tabby cat, lying on a red blanket!", "Grace Hopper (1984)",
            "naïve café — it's 12:30"]


def test_clip_tokenizer_matches_open_clip_exactly():
    import open_clip
    from transformers import CLIPTokenizerFast

    tokenizer = CLIPTokenizerFast.from_pretrained(build_clip_tokenizer())
    assert len(tokenizer) == 49408
    for text in CAPTIONS:
        reference = open_clip.tokenize([text])[0]
        assert tokenizer(text)["input_ids"] == reference[reference != 0].tolist(), text
    # The book's caption, as printed there.
    assert tokenizer(CAPTIONS[0])["input_ids"] == [49406, 320, 6829, 1629, 530, 518, 2583, 49407]


def test_clip_vocabulary_layout():
    vocab, merges = clip_vocab_and_merges()
    assert len(merges) == 48894
    assert vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407
    assert vocab["a</w>"] == 320


def test_blip2_uses_the_real_gpt2_vocabulary():
    # The GPT-2 tokenizer itself is checked against llama.cpp's test vectors in chapter 2's tests.
    from transformers import AutoTokenizer

    assert len(AutoTokenizer.from_pretrained(gpt2_tokenizer())) == 50257


def test_tiny_clip_is_the_books_class_and_reloads():
    from transformers import CLIPModel

    model = CLIPModel.from_pretrained(build_tiny_clip())
    assert type(model).__name__ == "CLIPModel"
    assert model.config.vision_config.image_size == 224 and model.config.vision_config.patch_size == 32
    assert model.config.text_config.vocab_size == 49408


def test_sentence_transformers_clip_matches_transformers_clip():
    from sentence_transformers import SentenceTransformer, util
    from transformers import CLIPModel, CLIPProcessor

    images = load_photos(["cat", "coffee"])
    captions = ["a tabby cat looking at the camera", "a cup of coffee on a saucer", "a rocket on its launch pad"]
    st_model = SentenceTransformer(str(build_tiny_st_clip()))
    st_sim = util.cos_sim(st_model.encode(images), st_model.encode(captions))
    assert tuple(st_sim.shape) == (2, 3)
    folder = build_tiny_clip()
    model, processor = CLIPModel.from_pretrained(folder), CLIPProcessor.from_pretrained(folder)
    with torch.no_grad():
        image_features = model.get_image_features(**processor(images=images, return_tensors="pt")).pooler_output
        text_features = model.get_text_features(**processor.tokenizer(captions, padding=True,
                                                                      return_tensors="pt")).pooler_output
    cosine = l2_normalize(image_features) @ l2_normalize(text_features).T
    np.testing.assert_allclose(st_sim.numpy(), cosine.numpy(), atol=1e-5)


def test_tiny_open_clip_loads_from_a_local_dir_with_the_real_tokenizer():
    import open_clip

    name = f"local-dir:{build_tiny_open_clip()}"
    model, _, preprocess = open_clip.create_model_and_transforms(name)
    tokenizer = open_clip.get_tokenizer(name)
    assert isinstance(tokenizer, open_clip.tokenizer.SimpleTokenizer)
    image = preprocess(load_photos(["cat"])[0]).unsqueeze(0)
    assert image.shape == (1, 3, 224, 224)
    with torch.no_grad():
        assert model.encode_image(image).shape == model.encode_text(tokenizer(["a cat"])).shape == (1, 64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_tiny_blip2_captions_in_every_dtype_the_notebook_uses(dtype):
    from transformers import AutoProcessor, Blip2ForConditionalGeneration

    from llmbook.offline.multimodal import build_tiny_blip2

    folder = build_tiny_blip2()
    model = Blip2ForConditionalGeneration.from_pretrained(folder, dtype=dtype)
    processor = AutoProcessor.from_pretrained(folder)
    inputs = processor(load_photos(["motorcycle"])[0], return_tensors="pt").to("cpu", dtype)
    assert inputs["pixel_values"].dtype == dtype
    generated = model.generate(**inputs, max_new_tokens=4)
    assert generated.shape[1] >= 4
    assert isinstance(processor.batch_decode(generated, skip_special_tokens=True)[0], str)
