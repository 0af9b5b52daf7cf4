"""Chapter 9 helpers: photos, ink blot, similarity matrix, BLIP-2 chat prompts, memory arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from multimodal_helpers import (
    PHOTO_CAPTIONS,
    PHOTO_SOURCES,
    answer_about_image,
    blip2_opt_2_7b_config,
    build_chat_prompt,
    clip_vit_b_32_config,
    count_parameters,
    is_mirror_symmetric,
    l2_normalize,
    load_photo,
    load_photos,
    make_chat_box,
    make_ink_blot,
    open_clip_names,
    plot_similarity_matrix,
    readable_tokens,
    similarity_matrix,
    zero_shot_labels,
)
from PIL import Image

from llmbook.offline.multimodal import build_tiny_blip2, build_tiny_clip

# ---- photos ------------------------------------------------------------------------------

def test_every_photo_loads_as_rgb_and_has_a_caption():
    assert set(PHOTO_SOURCES) == set(PHOTO_CAPTIONS)
    for name in PHOTO_SOURCES:
        image = load_photo(name)
        assert image.mode == "RGB" and min(image.size) >= 256, name


def test_unknown_photo_names_the_known_ones():
    with pytest.raises(KeyError, match="chelsea|cat"):
        load_photo("dog")


# ---- ink blot ----------------------------------------------------------------------------

@pytest.mark.parametrize("size", [384, 255])
def test_ink_blot_is_mirror_symmetric(size):
    blot = make_ink_blot(size=size, seed=3)
    array = np.asarray(blot)
    assert array.shape == (size, size, 3)
    np.testing.assert_array_equal(array, array[:, ::-1])
    assert is_mirror_symmetric(blot)
    ink = (array[..., 0] == 0).mean()
    assert 0.05 < ink < 0.6, f"ink covers {ink:.0%}: not a blot"


def test_ink_blot_is_seeded():
    assert np.array_equal(np.asarray(make_ink_blot(seed=1)), np.asarray(make_ink_blot(seed=1)))
    assert not np.array_equal(np.asarray(make_ink_blot(seed=1)), np.asarray(make_ink_blot(seed=2)))


def test_a_photo_is_not_mirror_symmetric():
    assert not is_mirror_symmetric(load_photo("cat"))


# ---- similarity ---------------------------------------------------------------------------

def test_l2_normalize_gives_unit_rows_for_numpy_and_torch():
    x = np.array([[3.0, 4.0], [1.0, 0.0]])
    np.testing.assert_allclose(l2_normalize(x), [[0.6, 0.8], [1.0, 0.0]])
    t = torch.tensor([[3.0, 4.0, 12.0]])
    torch.testing.assert_close(l2_normalize(t).norm(dim=-1), torch.tensor([1.0]))


def test_similarity_matrix_normalises_before_the_dot_product():
    rng = np.random.default_rng(0)
    images, texts = rng.normal(size=(3, 8)), rng.normal(size=(2, 8))
    sim = similarity_matrix(images, texts)
    assert sim.shape == (3, 2)  # images x captions
    # Scaling any feature vector must not change the result: only directions count.
    scaled = similarity_matrix(images * np.array([[10.0], [0.1], [3.0]]), texts * 7)
    np.testing.assert_allclose(sim, scaled)
    expected = [[a @ b / np.linalg.norm(a) / np.linalg.norm(b) for b in texts] for a in images]
    np.testing.assert_allclose(sim, expected)
    np.testing.assert_allclose(np.diag(similarity_matrix(images, images)), 1.0)
    # A plain dot product of unnormalised features would differ.
    assert not np.allclose(sim, images @ texts.T)


def test_similarity_matrix_of_tiny_clip_has_images_by_captions_shape():
    from transformers import CLIPModel, CLIPProcessor

    folder = build_tiny_clip()
    model, processor = CLIPModel.from_pretrained(folder), CLIPProcessor.from_pretrained(folder)
    images = load_photos(["cat", "motorcycle", "pagoda"])
    captions = [PHOTO_CAPTIONS["cat"], PHOTO_CAPTIONS["motorcycle"]]
    inputs = processor(text=captions, images=images, padding=True, return_tensors="pt")
    assert inputs["pixel_values"].shape == (3, 3, 224, 224)
    assert inputs["input_ids"].shape[0] == 2 and inputs["input_ids"][:, 0].eq(49406).all()
    with torch.no_grad():
        image_features = model.get_image_features(pixel_values=inputs["pixel_values"]).pooler_output
        text_features = model.get_text_features(input_ids=inputs["input_ids"],
                                                attention_mask=inputs["attention_mask"]).pooler_output
        outputs = model(**inputs)
    sim = similarity_matrix(image_features, text_features)
    assert sim.shape == (3, 2)
    assert np.all(np.abs(sim) <= 1 + 1e-6)
    # CLIP's own logits are the same cosine similarities times its learned temperature.
    logits = (outputs.logits_per_image / model.logit_scale.exp()).detach()
    np.testing.assert_allclose(sim, logits.numpy(), atol=1e-5)


def test_zero_shot_labels_take_the_best_column():
    assert zero_shot_labels(np.array([[0.1, 0.9], [0.8, 0.2]]), ["cat", "dog"]) == ["dog", "cat"]


def test_plot_similarity_matrix_saves_a_figure(tmp_path):
    images = [Image.new("RGB", (40, 30), color) for color in ("red", "green")]
    path = tmp_path / "sim.png"
    plot_similarity_matrix(np.array([[0.3, 0.1, 0.2], [0.0, 0.25, 0.1]]), images, ["a", "b", "c"], path=path)
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="2 images and 2 captions"):
        plot_similarity_matrix(np.zeros((2, 3)), images, ["a", "b"])


# ---- BLIP-2 prompts and chat ---------------------------------------------------------------

def test_build_chat_prompt_puts_earlier_turns_first():
    assert build_chat_prompt([], "What is this?") == "Question: What is this? Answer:"
    history = [("What is this?", "a red motorcycle"), ("Where is it?", "in a garage")]
    prompt = build_chat_prompt(history, "Is it new?")
    assert prompt == ("Question: What is this? Answer: a red motorcycle. Question: Where is it? Answer: in a garage. "
                      "Question: Is it new? Answer:")


def test_readable_tokens_show_spaces_as_underscores():
    vocab = {1: "The", 2: "Ġred", 3: "Ġbike"}

    class Tokens:
        def convert_ids_to_tokens(self, ids):
            return [vocab[i] for i in ids]

    assert readable_tokens(Tokens(), torch.tensor([1, 2, 3])) == ["The", "_red", "_bike"]


@pytest.fixture(scope="module")
def tiny_blip2():
    from transformers import AutoProcessor, Blip2ForConditionalGeneration

    folder = build_tiny_blip2()
    return Blip2ForConditionalGeneration.from_pretrained(folder), AutoProcessor.from_pretrained(folder)


class RecordingProcessor:
    """Wraps a processor and keeps the text prompts it was called with."""

    def __init__(self, processor):
        self.processor, self.prompts = processor, []

    def __call__(self, *args, text=None, **kwargs):
        self.prompts.append(text)
        return self.processor(*args, text=text, **kwargs)

    def batch_decode(self, *args, **kwargs):
        return self.processor.batch_decode(*args, **kwargs)


def test_chat_puts_earlier_turns_into_the_next_prompt_and_returns_strings(tiny_blip2):
    model, processor = tiny_blip2
    recorder = RecordingProcessor(processor)
    image, history = load_photo("motorcycle"), []
    first = answer_about_image(model, recorder, image, "What do you see?", history, max_new_tokens=5)
    second = answer_about_image(model, recorder, image, "What color is it?", history, max_new_tokens=5)
    assert isinstance(first, str) and isinstance(second, str)
    assert history == [("What do you see?", first), ("What color is it?", second)]
    assert recorder.prompts[0] == "Question: What do you see? Answer:"
    assert recorder.prompts[1] == f"Question: What do you see? Answer: {first}. Question: What color is it? Answer:"
    # The answer holds only new tokens, never the prompt.
    assert "Question:" not in second


def test_blip2_processor_output_shapes(tiny_blip2):
    model, processor = tiny_blip2
    image = load_photo("motorcycle")
    pixels = processor(image, return_tensors="pt")
    assert pixels["pixel_values"].shape == (1, 3, 224, 224)
    text = "The red motorcycle waits quietly in the garage"
    inputs = processor(image, text=text, return_tensors="pt")
    n_text = len(processor.tokenizer(text)["input_ids"])
    image_id = model.config.image_token_index
    assert image_id == processor.tokenizer.convert_tokens_to_ids("<image>")
    assert image_id < model.config.text_config.vocab_size
    assert inputs["input_ids"].shape == (1, 32 + n_text)
    assert inputs["input_ids"][0, :32].eq(image_id).all()
    tokens = readable_tokens(processor.tokenizer, inputs["input_ids"][0])
    assert tokens[32:] == ["The", "_red", "_motorcycle", "_waits", "_quietly", "_in", "_the", "_garage"]


def test_chat_box_is_a_thin_layer_over_the_function():
    asked = []

    def ask(question):
        asked.append(question)
        return f"answer {len(asked)}"

    box = make_chat_box(ask)
    box.chat_question.value = "first?"  # what pressing Enter does
    box.chat_question.value = "   "  # blank questions are ignored
    box.chat_question.value = "second?"
    box.chat_send()  # empty field: nothing happens
    assert asked == ["first?", "second?"]
    assert box.chat_question.value == ""


# ---- open_clip names and memory arithmetic -------------------------------------------------

def test_open_clip_names_per_profile():
    assert open_clip_names("ViT-B-32", "laion2b_s34b_b79k", profile="gpu") == ("ViT-B-32", "laion2b_s34b_b79k")
    assert open_clip_names("ViT-B-32", "laion2b_s34b_b79k", profile="cpu") == ("ViT-B-32", "laion2b_s34b_b79k")
    name, pretrained = open_clip_names("ViT-B-32", "laion2b_s34b_b79k", profile="offline")
    assert name.startswith("local-dir:") and pretrained is None


def test_parameter_counts_of_the_real_architectures():
    from transformers import Blip2ForConditionalGeneration, CLIPModel

    assert count_parameters(CLIPModel, clip_vit_b_32_config()) == 151_277_313  # openai/clip-vit-base-patch32
    blip2 = count_parameters(Blip2ForConditionalGeneration, blip2_opt_2_7b_config())
    assert 3.70e9 < blip2 < 3.80e9  # "3.74B parameters" on the model card
    assert blip2 * 2 / 1e9 < 15 - 3 * 0.61 - 1  # fp16 BLIP-2 + three CLIPs + 1 GB fit a T4
