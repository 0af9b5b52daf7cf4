"""``%pip`` as Colab defines it: the bare ``pip`` on PATH, run through the shell (not ``python -m pip``).

IPython's own ``%pip`` runs ``sys.executable -m pip``; Colab replaces it with ``pip <line>`` so that its
shell can recognise a ``pip install`` and warn about packages already imported. On Colab that ``pip``
is the one of the kernel's Python; in the tier PATH starts with the environment's bin folder.
"""


def _pip_magic(line):
    """Install a package into the kernel's environment with the ``pip`` on PATH."""
    from IPython import get_ipython

    return get_ipython().system(f"pip {line}")


def _register_magics(shell):
    shell.register_magic_function(_pip_magic, magic_kind="line", magic_name="pip")
