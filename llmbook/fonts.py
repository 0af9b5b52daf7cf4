"""Chinese labels in matplotlib figures (chapters 2 and 5, 繁中實戰).

matplotlib's own fonts have no CJK glyphs, so Chinese text would come out as empty boxes. The
font comes from the ``mplfonts`` package, installed with ``--no-deps`` only for the file it ships;
it is found without importing the package.
"""

from __future__ import annotations

from pathlib import Path

from .offline.sources import package_folder

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path:
    """Noto Sans CJK SC Regular as shipped in ``mplfonts`` (the font: SIL Open Font License 1.1).

    "SC" is the Simplified-Chinese flavour of the font, but the file holds the Traditional
    characters too (臺, 灣, 體); only a few glyph shapes follow mainland conventions.
    """
    return package_folder("mplfonts", "mplfonts") / "fonts" / CJK_FONT_FILE


def use_cjk_font() -> str:
    """Register the CJK font with matplotlib and make it the default; returns its family name."""
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams["font.family"] = [family, "DejaVu Sans"]  # DejaVu Sans for anything the font lacks
    return family
