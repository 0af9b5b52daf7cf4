"""The Colab tier: run every chapter's own set-up cell the way Colab would, then the notebook offline.

    python -m tools.colab_tier [--chapters 1 2 ...] [--write-results] [--keep] [--secret NAME=VALUE]
                               [--rebuild-base] [--timeout SECONDS] [--python PATH] [--cold-llama]

What it reproduces (Colab GPU runtime, snapshot ``tools/colab/pip-freeze.gpu.txt`` of
googlecolab/backend-info):

* Python 3.13: Colab has 3.13.15 on Ubuntu 22.04; the tier uses the nearest interpreter this
  machine has, pyenv's 3.13 (``--python`` or ``$LLMBOOK_COLAB_PYTHON`` picks another one).
* A base virtual environment with Colab's exact versions of every package in the snapshot that our
  requirement files name or that one of them depends on (computed with pip's resolver, constrained
  to the snapshot, then installed with ``--no-deps``), plus the Jupyter stack Colab's kernel runs on.
  Built once into ``~/.cache/llmbook/colab-tier/base-<key>`` (the key hashes the snapshot and the
  requirement *names*; the versions come from the snapshot), reused afterwards.
* ``google.colab`` importable (the stub in ``tools/colab/stub``) and imported when the kernel starts,
  through ``colab_kernel_launcher`` as on Colab; ``google.colab.userdata.get`` raises
  ``SecretNotFoundError`` unless a secret is given with ``--secret``.
* The repository already at the clone target (``COLAB_CLONE_DIR`` of tools/notebooks.py), as a copy of
  this working tree, so the set-up cell skips its clone the way it does on a re-run. Removed afterwards.

Per chapter, in a fresh hard-link copy of the base environment: a kernel runs the set-up cell (cell 1)
exactly as written, with PyPI reachable and ``LLMBOOK_PROFILE`` unset; then the guard of
tests/hermetic (only loopback) is switched on and the rest of the notebook runs under the offline
profile. Recorded: set-up time, packages upgraded/downgraded/added over Colab's set, pip's conflict
warnings, whether Colab would ask for a restart (a package the cell changed has a module that was
already imported when the cell started: the check of colabtools' ``google/colab/_pip.py``), whether
the set-up cell raised, pass/fail with the first error, notebook time. ``--cold-llama`` gives the
llama-cpp-python step an empty wheel cache, so its download or build counts as on a fresh runtime.

The parts: freeze.py reads what pip says (freezes, versions, conflicts, the restart criterion);
environment.py builds the base environment, each chapter's copy and the clone target; drive.py runs
one chapter (its notebook driven by nbclient in the base environment); report.py writes the table;
cli.py holds the options and the run. Importing needs only the standard library and ``packaging``
(pip's own copy when it is not installed), so ``python3 -m tools.colab_tier`` works before set-up.
"""

from tools.colab_tier.cli import main

__all__ = ["main"]
