"""Start the tier's kernel the way Colab's does: ``python -m colab_kernel_launcher -f CONNECTION_FILE``.

``google.colab`` is imported before the kernel starts, so it is in ``sys.modules`` when the first cell
runs, and its ``%pip`` replaces IPython's.
"""

import sys

import google.colab
from ipykernel.kernelapp import IPKernelApp

if __name__ == "__main__":
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    google.colab._register_in_shell(app.shell)
    app.start()
