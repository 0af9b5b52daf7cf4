"""``python -m tools.colab_tier`` (what ``book.py test --colab`` runs)."""

import sys

from tools.colab_tier.cli import main

sys.exit(main())
