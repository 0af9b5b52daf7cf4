"""A stand-in for Colab's ``google.colab`` package, for the Colab tier (tools/colab_tier/).

Only what the tier needs, written for it (not colabtools' code): ``"google.colab" in sys.modules``
is true in the kernel, ``userdata.get`` behaves like Colab's when a secret is missing, ``%pip`` runs
the bare ``pip`` on PATH as Colab's magic does, and the third-party modules that Colab's own
``import google.colab`` loads at kernel start are loaded here too, so that ``sys.modules`` holds
what a fresh Colab kernel holds when the first cell runs (it decides whether an upgrade needs a
restart). That list was read from colabtools' module-level imports (google/colab/*.py).
"""

import importlib as _importlib

from google.colab import errors, output, userdata  # noqa: F401  (the public modules our cells use)

# Module-level imports of colabtools' google/colab package (IPython, ipykernel and zmq come with the kernel).
_LOADED_AT_START = ("IPython", "numpy", "PIL", "traitlets", "anywidget", "httplib2", "zmq", "psutil",
                    "pexpect.popen_spawn", "packaging.version")
for _name in _LOADED_AT_START:
    try:
        _importlib.import_module(_name)
    except ImportError:  # a module the base environment lacks: the tier reports it, the kernel still starts
        pass

__version__ = "0.0.1a2+llmbook-colab-tier"


def _register_in_shell(shell) -> None:
    """What Colab's kernel adds to the IPython shell that our set-up cells rely on: its ``%pip``."""
    from google.colab import _installation_commands

    _installation_commands._register_magics(shell)
