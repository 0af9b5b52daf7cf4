"""第 9 章的輔助工具：套件內附的照片、本機產生的墨漬圖、open_clip 的模型名稱、記憶體估算。

書中的步驟（分詞、嵌入、相似度矩陣與熱度圖、BLIP-2 的提示詞與對話框）都寫在 notebook 裡；
這裡只放補充的小工具與基礎設施。
"""

from __future__ import annotations

from collections.abc import Sequence

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
# Zero-shot classification (the notebook's 補充 open_clip section).
# ---------------------------------------------------------------------------------------------

def l2_normalize(x):
    """Divide each row by its L2 norm (works for numpy arrays and torch tensors)."""
    return x / (x ** 2).sum(-1, keepdims=True) ** 0.5


def zero_shot_labels(similarity: np.ndarray, labels: Sequence[str]) -> list[str]:
    """For each image (row), the label (column) it is most similar to."""
    return [labels[int(i)] for i in np.asarray(similarity).argmax(axis=1)]


# ---------------------------------------------------------------------------------------------
# open_clip: the book's model names under each profile.
# ---------------------------------------------------------------------------------------------

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
