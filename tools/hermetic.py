"""What a hermetic run strips and sets: shared by ``book.py test`` and the Colab tier (tools/colab_tier.py).

Standard library only: ``book.py`` imports it before anything is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

# The Hugging Face libraries' own offline switches: any stray download fails at once.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
# Credentials a test run must never see, whatever the caller has set.
SECRET_NAME = re.compile(r"(_API_KEY|_TOKEN|_SECRET)$|^OPENAI_|^HF_TOKEN|^HUGGING_FACE_HUB_TOKEN")
# tests/hermetic/sitecustomize.py refuses every connection beyond loopback in each Python process.
HERMETIC_SITE = Path(__file__).resolve().parents[1] / "tests" / "hermetic"
