"""第 9 章的輔助函式：照片、墨漬圖、相似度矩陣、BLIP-2 對話提示，以及記憶體估算。

Plain functions the chapter-9 notebook imports; every one is unit-tested in
``tests/test_chapter09_multimodal.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

# ---------------------------------------------------------------------------------------------
# Photos: all ship inside PyPI packages (scikit-image, scikit-learn, matplotlib); no downloads.
# ---------------------------------------------------------------------------------------------

PHOTO_SOURCES = {
    "cat": "skimage.data.chelsea()",
    "motorcycle": "skimage.data.stereo_motorcycle()[0]",
    "coffee": "skimage.data.coffee()",
    "rocket": "skimage.data.rocket()",
    "astronaut": "skimage.data.astronaut()",
    "pagoda": 'sklearn.datasets.load_sample_image("china.jpg")',
    "flower": 'sklearn.datasets.load_sample_image("flower.jpg")',
    "grace_hopper": 'matplotlib.cbook.get_sample_data("grace_hopper.jpg")',
}

# Captions written for these photos (English, as CLIP was trained on English text).
PHOTO_CAPTIONS = {
    "cat": "a close-up of a tabby cat with green eyes",
    "motorcycle": "a red motorcycle parked in a garage",
    "coffee": "a cup of coffee on a red saucer",
    "rocket": "a rocket on the launch pad at night",
    "astronaut": "an astronaut in an orange suit",
    "pagoda": "a pagoda on a hill above a lake",
    "flower": "an orange dahlia flower",
    "grace_hopper": "a portrait of an officer in a navy uniform",
}


def load_photo(name: str) -> Image.Image:
    """One of the shipped photos as an RGB PIL image (names: see ``PHOTO_SOURCES``)."""
    if name in {"cat", "motorcycle", "coffee", "rocket", "astronaut"}:
        from skimage import data

        loader = {"cat": data.chelsea, "motorcycle": lambda: data.stereo_motorcycle()[0],
                  "coffee": data.coffee, "rocket": data.rocket, "astronaut": data.astronaut}[name]
        array = loader()
    elif name in {"pagoda", "flower"}:
        from sklearn.datasets import load_sample_image

        array = load_sample_image({"pagoda": "china.jpg", "flower": "flower.jpg"}[name])
    elif name == "grace_hopper":
        from matplotlib import cbook

        with cbook.get_sample_data("grace_hopper.jpg") as handle:
            return Image.open(handle).convert("RGB")
    else:
        raise KeyError(f"沒有名為 {name!r} 的照片；可用的有：{', '.join(PHOTO_SOURCES)}")
    return Image.fromarray(np.asarray(array, dtype=np.uint8)).convert("RGB")


def load_photos(names: Sequence[str]) -> list[Image.Image]:
    return [load_photo(name) for name in names]


# ---------------------------------------------------------------------------------------------
# A Rorschach-style ink blot, generated locally (the book downloads one from Wikimedia).
# ---------------------------------------------------------------------------------------------

def make_ink_blot(size: int = 384, seed: int = 7, smoothness: float = 9.0) -> Image.Image:
    """A black-on-white ink blot, mirror-symmetric about the vertical axis (seeded, deterministic)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    half_width = size // 2
    noise = gaussian_filter(rng.standard_normal((size, half_width)), sigma=smoothness)
    noise /= noise.std()
    # Ink gathers near the fold (right edge of the left half) and the middle rows.
    ys, xs = np.mgrid[0:size, 0:half_width]
    dist_fold = (half_width - 1 - xs) / half_width
    dist_middle = np.abs(ys - size / 2) / (size / 2)
    field = noise + 2.4 * (1 - dist_fold) ** 2 - 2.2 * dist_middle ** 2 - 1.1
    left = np.where(field > 0, 0, 255).astype(np.uint8)
    full = np.concatenate([left, left[:, ::-1]], axis=1)
    if full.shape[1] < size:  # odd sizes: repeat the middle column
        full = np.concatenate([left, left[:, -1:], left[:, ::-1]], axis=1)
    return Image.fromarray(full).convert("RGB")


def is_mirror_symmetric(image: Image.Image) -> bool:
    array = np.asarray(image)
    return bool(np.array_equal(array, array[:, ::-1]))


# ---------------------------------------------------------------------------------------------
# Similarity between images and captions.
# ---------------------------------------------------------------------------------------------

def l2_normalize(x):
    """Divide each row by its L2 norm (works for numpy arrays and torch tensors)."""
    return x / (x ** 2).sum(-1, keepdims=True) ** 0.5


def similarity_matrix(image_embeddings, text_embeddings) -> np.ndarray:
    """Cosine similarities, shape (number of images, number of captions): normalise, then dot."""
    images = np.asarray(_to_numpy(image_embeddings), dtype=np.float64)
    texts = np.asarray(_to_numpy(text_embeddings), dtype=np.float64)
    return l2_normalize(images) @ l2_normalize(texts).T


def _to_numpy(x):
    if hasattr(x, "detach"):
        return x.detach().float().cpu().numpy()
    return x


def plot_similarity_matrix(similarity: np.ndarray, images: Sequence[Image.Image], captions: Sequence[str],
                           path: str | Path | None = None):
    """Heat map of ``similarity`` (images × captions) with the photos drawn above their columns.

    Columns are images, rows are captions (as in the book's figure). Saved to ``path`` if given.
    """
    import matplotlib.pyplot as plt

    similarity = np.asarray(similarity)
    n_images, n_captions = similarity.shape
    if n_images != len(images) or n_captions != len(captions):
        raise ValueError(f"similarity is {similarity.shape}, but got {len(images)} images and {len(captions)} captions")
    fig, ax = plt.subplots(figsize=(2.2 * n_images + 4, 1.1 * n_captions + 3))
    grid = similarity.T  # rows: captions, columns: images
    ax.imshow(grid, cmap="viridis", vmin=grid.min(), vmax=grid.max())
    ax.set_yticks(range(n_captions), captions)
    ax.set_xticks([])
    for row in range(n_captions):
        for col in range(n_images):
            ax.text(col, row, f"{grid[row, col]:.2f}", ha="center", va="center", size=11,
                    color="white" if grid[row, col] < grid.mean() else "black")
    for col, image in enumerate(images):
        # A centred square thumbnail; the y axis points down, so the extent goes from bottom (-0.6) to top (-1.6).
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        thumbnail = image.crop((left, top, left + side, top + side))
        ax.imshow(thumbnail, extent=(col - 0.45, col + 0.45, -0.6, -1.6))
    ax.set_xlim(-0.5, n_images - 0.5)
    ax.set_ylim(n_captions - 0.5, -1.7)
    for side in ("left", "top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title("similarity (images × captions)")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def zero_shot_labels(similarity: np.ndarray, labels: Sequence[str]) -> list[str]:
    """For each image (row), the label (column) it is most similar to."""
    return [labels[int(i)] for i in np.asarray(similarity).argmax(axis=1)]


# ---------------------------------------------------------------------------------------------
# Tokens, and the BLIP-2 prompts.
# ---------------------------------------------------------------------------------------------

def readable_tokens(tokenizer, input_ids) -> list[str]:
    """Token strings with GPT-2's space marker ``Ġ`` shown as ``_``."""
    ids = input_ids.tolist() if hasattr(input_ids, "tolist") else list(input_ids)
    return [token.replace("Ġ", "_") for token in tokenizer.convert_ids_to_tokens(ids)]


def open_clip_names(model_name: str, pretrained: str, profile: str | None = None) -> tuple[str, str | None]:
    """``(model_name, pretrained)`` to pass to ``open_clip.create_model_and_transforms`` under this profile.

    The table key is ``"open_clip/<model_name>/<pretrained>"``: ``gpu``/``cpu`` give the book's two
    arguments back; ``offline`` gives ``"local-dir:<folder>"`` (open_clip then ignores ``pretrained``).
    """
    from llmbook import pick_model

    key = f"open_clip/{model_name}/{pretrained}"
    picked = pick_model(key, profile)
    if picked.startswith("open_clip/"):
        _, name, tag = picked.split("/", 2)
        return name, tag
    return f"local-dir:{picked}", None


def build_chat_prompt(history: Sequence[tuple[str, str]], question: str) -> str:
    """BLIP-2's Question/Answer prompt: earlier turns first, the new question last."""
    turns = [f"Question: {q} Answer: {a}." for q, a in history]
    turns.append(f"Question: {question} Answer:")
    return " ".join(turns)


def answer_about_image(model, processor, image, question: str, history: list[tuple[str, str]] | None = None,
                       max_new_tokens: int = 30) -> str:
    """Ask BLIP-2 ``question`` about ``image``, remembering ``history``; returns the answer text.

    The (question, answer) pair is appended to ``history`` so the next call sees it.
    """
    import torch

    history = [] if history is None else history
    prompt = build_chat_prompt(history, question)
    inputs = processor(images=image, text=prompt, return_tensors="pt").to(model.device, model.dtype)
    with torch.no_grad():
        generated = model.generate(**inputs, max_new_tokens=max_new_tokens)
    # transformers 5 returns the prompt tokens too: keep only the new ones.
    new_tokens = generated[:, inputs["input_ids"].shape[1]:]
    answer = processor.batch_decode(new_tokens, skip_special_tokens=True)[0].strip()
    history.append((question, answer))
    return answer


def make_chat_box(ask: Callable[[str], str]):
    """An ipywidgets chat box: a text field, a send button and a log. ``ask(question) -> answer``.

    All the work happens in ``ask``; the box only shows the turns (the answers go into an
    ``Output`` widget, so they show up in Colab as well).
    """
    import ipywidgets as widgets

    # continuous_update=False: the value changes only on Enter (or leaving the field), not per keystroke.
    question = widgets.Text(placeholder="用英文提問，例如 What color is it?", continuous_update=False,
                            layout=widgets.Layout(width="70%"))
    send = widgets.Button(description="送出")
    log = widgets.Output()

    def on_send(_=None):
        text = question.value.strip()
        if not text:
            return
        question.value = ""
        answer = ask(text)
        with log:
            print(f"USER: {text}\nBLIP-2: {answer}")

    send.on_click(on_send)
    question.observe(on_send, names="value")  # Enter also sends (Text.on_submit is deprecated)
    box = widgets.VBox([widgets.HBox([question, send]), log])
    # Handles for tests and for driving the box from code (names chosen not to clash with widget traits).
    box.chat_send, box.chat_question, box.chat_log = on_send, question, log
    return box


# ---------------------------------------------------------------------------------------------
# Memory by arithmetic: count the real models' parameters without downloading or allocating them.
# ---------------------------------------------------------------------------------------------

def blip2_opt_2_7b_config():
    """The architecture of Salesforce/blip2-opt-2.7b (ViT-g 39 layers, Q-Former, OPT-2.7b)."""
    from transformers import Blip2Config

    return Blip2Config(
        vision_config=dict(hidden_size=1408, intermediate_size=6144, num_hidden_layers=39,
                           num_attention_heads=16, image_size=224, patch_size=14, qkv_bias=True),
        qformer_config=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                            num_attention_heads=12, encoder_hidden_size=1408, cross_attention_frequency=2,
                            vocab_size=30522),
        text_config=dict(model_type="opt", vocab_size=50272, hidden_size=2560, ffn_dim=10240,
                         num_hidden_layers=32, num_attention_heads=32, word_embed_proj_dim=2560,
                         max_position_embeddings=2048),
        num_query_tokens=32,
    )


def clip_vit_b_32_config():
    """The architecture of openai/clip-vit-base-patch32 (CLIPConfig's defaults are ViT-B/32)."""
    from transformers import CLIPConfig

    return CLIPConfig()


def count_parameters(model_class, config) -> int:
    """Parameters of ``model_class(config)``, built on the meta device (no memory, no download)."""
    import torch

    with torch.device("meta"):
        model = model_class(config)
    seen, total = set(), 0
    for parameter in model.parameters():  # tied weights are counted once
        if id(parameter) not in seen:
            seen.add(id(parameter))
            total += parameter.numel()
    return total


def gigabytes(n_parameters: int, bytes_per_parameter: int) -> float:
    return n_parameters * bytes_per_parameter / 1e9


def peak_memory_gb() -> float:
    """This process's peak resident memory in GB (``resource`` on Linux/macOS, else psutil's current RSS)."""
    import sys

    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().rss / 1e9
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e9 if sys.platform == "darwin" else peak * 1024 / 1e9
