"""Chapter 9: the notebook's own steps (caption, similarity matrix, plot, BLIP-2 chat) and the helpers.

Functions the notebook defines are loaded from the notebook itself (``notebook_code.load_definitions``),
and the sample texts are read from the cells that assign them, so the tests check what the reader runs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from multimodal_helpers import (
    PHOTO_SOURCES,
    blip2_opt_2_7b_config,
    clip_vit_b_32_config,
    count_parameters,
    is_mirror_symmetric,
    l2_normalize,
    load_photo,
    load_photos,
    make_ink_blot,
    open_clip_names,
    zero_shot_labels,
)
from notebook_code import assigned_literals, load_definitions
from PIL import Image

from llmbook.offline.multimodal import build_clip_tokenizer, build_tiny_blip2, build_tiny_clip

NOTEBOOK = "chapter09/chapter09_multimodal_llms.ipynb"


def notebook_string(name: str) -> str:
    """The string literal the notebook assigns to ``name`` at the top level of a code cell."""
    found = assigned_literals(NOTEBOOK, name)
    assert len(found) == 1, f"{NOTEBOOK} assigns a string to {name!r} {len(found)} times"
    return found[0]


@pytest.fixture(scope="module")
def nb():
    return load_definitions(NOTEBOOK, "cosine_similarity_matrix", "plot_similarity_matrix",
                            "build_chat_prompt", "answer_about_image", "make_chat_box")


# ---- CLIP's tokenization of the notebook's caption -------------------------------------------

def words_split_by_clip(text: str) -> dict[str, list[str]]:
    """Words that CLIP's real BPE (open_clip's SimpleTokenizer) cuts into several tokens."""
    from open_clip.tokenizer import SimpleTokenizer

    tokenizer = SimpleTokenizer()
    return {word: pieces for word in text.lower().split()
            if len(pieces := [tokenizer.decoder[i] for i in tokenizer.encode(word)]) > 1}


def test_caption_shows_a_word_split_into_sub_word_tokens():
    caption = notebook_string("caption")
    split = words_split_by_clip(caption)
    assert split, f"every word of {caption!r} is a single CLIP token: the step would show no sub-word split"
    for pieces in split.values():
        # Only the last piece of a word carries CLIP's end-of-word mark.
        assert pieces[-1].endswith("</w>") and not any(p.endswith("</w>") for p in pieces[:-1])
    assert split["scrutinizing"] == ["scru", "tin", "izing</w>"]  # what the notebook's bullet describes


def test_caption_splits_the_same_way_in_the_processors_tokenizer():
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizerFast

    caption = notebook_string("caption")
    tokenizer = CLIPTokenizerFast.from_pretrained(build_clip_tokenizer())  # what offline's CLIPProcessor holds
    ids = tokenizer(caption)["input_ids"]
    assert ids[0] == 49406 and ids[-1] == 49407
    assert ids[1:-1] == SimpleTokenizer().encode(caption)
    tokens = tokenizer.convert_ids_to_tokens(ids[1:-1])
    assert len(tokens) > len(caption.split())
    assert ["scru", "tin", "izing</w>"] == tokens[3:6]


def test_blip2_sample_text_shows_sub_word_splits_in_gpt2_bpe():
    from transformers import AutoTokenizer

    from llmbook.offline.vocabularies import gpt2_tokenizer

    text = notebook_string("text")
    tokenizer = AutoTokenizer.from_pretrained(gpt2_tokenizer())
    tokens = [t.replace("Ġ", "_") for t in tokenizer.tokenize(text)]
    assert len(tokens) > len(text.split())
    assert tokens[1:5] == ["_gle", "aming", "_motor", "bike"]  # what the notebook's bullet describes


# ---- cosine similarity matrix and its plot (notebook) -----------------------------------------

def test_cosine_similarity_matrix_is_the_normalised_dot_product(nb):
    rng = np.random.default_rng(0)
    images, texts = rng.normal(size=(3, 8)), rng.normal(size=(2, 8))
    sim = nb.cosine_similarity_matrix(images, texts)
    assert sim.shape == (3, 2)  # images x captions
    assert np.all(np.abs(sim) <= 1 + 1e-12)
    unit_images = images / np.linalg.norm(images, axis=1, keepdims=True)
    unit_texts = texts / np.linalg.norm(texts, axis=1, keepdims=True)
    np.testing.assert_allclose(sim, unit_images @ unit_texts.T)
    # Only directions count: scaling any vector changes nothing; an unnormalised dot product differs.
    np.testing.assert_allclose(nb.cosine_similarity_matrix(images * [[10.0], [0.1], [3.0]], texts * 7), sim)
    assert not np.allclose(sim, images @ texts.T)
    np.testing.assert_allclose(np.diag(nb.cosine_similarity_matrix(images, images)), 1.0)
    np.testing.assert_allclose(nb.cosine_similarity_matrix(images, -images).diagonal(), -1.0)
    from sklearn.metrics.pairwise import cosine_similarity  # what the notebook's 補充 cell compares with

    np.testing.assert_allclose(sim, cosine_similarity(images, texts))


def test_cosine_similarity_matrix_of_tiny_clip_matches_clips_own_logits(nb):
    from transformers import CLIPModel, CLIPProcessor

    folder = build_tiny_clip()
    model, processor = CLIPModel.from_pretrained(folder), CLIPProcessor.from_pretrained(folder)
    images = load_photos(["cat", "motorcycle", "pagoda"])
    captions = [notebook_string("caption"), "a red motorcycle"]
    inputs = processor(text=captions, images=images, padding=True, return_tensors="pt")
    assert inputs["pixel_values"].shape == (3, 3, 224, 224)
    with torch.no_grad():  # as the notebook does: one image, one caption at a time
        image_embeddings = np.array([model.get_image_features(**processor(images=image, return_tensors="pt"))
                                     .pooler_output[0].numpy() for image in images])
        text_embeddings = np.array([model.get_text_features(**processor.tokenizer(text, return_tensors="pt"))
                                    .pooler_output[0].numpy() for text in captions])
        outputs = model(**inputs)
    sim = nb.cosine_similarity_matrix(image_embeddings, text_embeddings)
    assert sim.shape == (3, 2)
    assert np.all(np.abs(sim) <= 1 + 1e-6)
    # CLIP's own logits are the same cosine similarities times its learned temperature.
    logits = (outputs.logits_per_image / model.logit_scale.exp()).detach().numpy()
    np.testing.assert_allclose(sim, logits, atol=1e-5)


def test_plot_similarity_matrix_draws_captions_by_images_and_saves(nb, tmp_path):
    images = [Image.new("RGB", (40, 30), color) for color in ("red", "green")]
    sim = np.array([[0.3, 0.1, 0.2], [0.0, 0.25, 0.1]])  # 2 images x 3 captions
    path = tmp_path / "sim.png"
    fig = nb.plot_similarity_matrix(sim, images, ["a", "b", "c"], path=path)
    assert path.stat().st_size > 1000
    ax = fig.axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["a", "b", "c"]  # rows: captions
    heat = ax.images[0].get_array()
    np.testing.assert_allclose(heat, sim.T)  # columns: images
    assert len(ax.images) == 1 + len(images)  # the heat map, then one thumbnail per image
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:.2f}" for v in sim.ravel())
    with pytest.raises(ValueError, match="2 張影像、2 句說明"):
        nb.plot_similarity_matrix(np.zeros((2, 3)), images, ["a", "b"])


# ---- BLIP-2 prompts, chat and chat box (notebook) ---------------------------------------------

def test_build_chat_prompt_puts_earlier_turns_first(nb):
    assert nb.build_chat_prompt([], "What is this?") == "Question: What is this? Answer:"
    memory = [("What is this?", "a red motorcycle"), ("Where is it?", "in a garage")]
    assert nb.build_chat_prompt(memory, "Is it new?") == (
        "Question: What is this? Answer: a red motorcycle. Question: Where is it? Answer: in a garage. "
        "Question: Is it new? Answer:")


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


def test_answer_about_image_remembers_turns_and_returns_only_new_text(nb, tiny_blip2):
    model, processor = tiny_blip2
    recorder = RecordingProcessor(processor)
    image, memory = load_photo("motorcycle"), []
    first = nb.answer_about_image(model, recorder, image, "What do you see?", memory, max_new_tokens=5)
    second = nb.answer_about_image(model, recorder, image, "What color is it?", memory, max_new_tokens=5)
    assert isinstance(first, str) and isinstance(second, str)
    assert memory == [("What do you see?", first), ("What color is it?", second)]
    assert recorder.prompts[0] == "Question: What do you see? Answer:"
    assert recorder.prompts[1] == f"Question: What do you see? Answer: {first}. Question: What color is it? Answer:"
    # The answer holds only new tokens, never the prompt; the book's split drops a next "Question".
    assert "Question" not in second and "What color" not in second


def test_answer_about_image_cuts_a_self_written_next_question(nb):
    class FakeProcessor:
        def __call__(self, image, text, return_tensors):
            from transformers import BatchFeature

            return BatchFeature({"input_ids": torch.tensor([[1, 2, 3]])})

        def batch_decode(self, ids, skip_special_tokens):
            assert ids.tolist() == [[7, 8]]  # only the tokens after the prompt
            return [" a red bike. Question: and then? Answer: more"]

    class FakeModel:
        device, dtype = torch.device("cpu"), torch.float32

        def generate(self, input_ids, max_new_tokens):
            assert max_new_tokens == 100  # the book's setting
            return torch.cat([input_ids, torch.tensor([[7, 8]])], dim=1)

    memory = []
    assert nb.answer_about_image(FakeModel(), FakeProcessor(), None, "What is it?", memory) == "a red bike."
    assert memory == [("What is it?", "a red bike.")]


def test_blip2_processor_puts_32_image_tokens_before_the_text(tiny_blip2):
    model, processor = tiny_blip2
    image = load_photo("motorcycle")
    assert processor(image, return_tensors="pt")["pixel_values"].shape == (1, 3, 224, 224)
    text = notebook_string("text")
    inputs = processor(image, text=text, return_tensors="pt")
    n_text = len(processor.tokenizer(text)["input_ids"])
    image_id = model.config.image_token_index
    assert image_id == processor.tokenizer.convert_tokens_to_ids("<image>")
    assert image_id < model.config.text_config.vocab_size
    assert inputs["input_ids"].shape == (1, 32 + n_text)
    assert inputs["input_ids"][0, :32].eq(image_id).all()


def test_chat_box_sends_on_enter_and_logs_both_sides(nb):
    asked = []

    def ask(question):
        asked.append(question)
        return f"answer <{len(asked)}>"

    box = nb.make_chat_box(ask)
    log, question_box = box.children
    question_box.value = "first?"  # what pressing Enter does (continuous_update=False)
    question_box.value = "   "  # blank questions are ignored
    question_box.value = "second?"
    assert asked == ["first?", "second?"]
    assert question_box.value == ""
    html = [output["data"]["text/html"] for output in log.outputs]
    assert html == ["<b>USER:</b> first?", "<b>BLIP-2:</b> answer &lt;1&gt;",
                    "<b>USER:</b> second?", "<b>BLIP-2:</b> answer &lt;2&gt;"]


# ---- helpers: photos and ink blot -------------------------------------------------------------

def test_every_photo_loads_as_rgb():
    for name in PHOTO_SOURCES:
        image = load_photo(name)
        assert image.mode == "RGB" and min(image.size) >= 256, name


def test_unknown_photo_names_the_known_ones():
    with pytest.raises(KeyError, match="cat"):
        load_photo("dog")


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


# ---- helpers: zero-shot (補充), open_clip names, memory arithmetic ------------------------------

def test_l2_normalize_gives_unit_rows_for_numpy_and_torch():
    np.testing.assert_allclose(l2_normalize(np.array([[3.0, 4.0], [1.0, 0.0]])), [[0.6, 0.8], [1.0, 0.0]])
    torch.testing.assert_close(l2_normalize(torch.tensor([[3.0, 4.0, 12.0]])).norm(dim=-1), torch.tensor([1.0]))


def test_zero_shot_labels_take_the_best_column():
    assert zero_shot_labels(np.array([[0.1, 0.9], [0.8, 0.2]]), ["cat", "dog"]) == ["dog", "cat"]


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
