"""Colab's common error base class (same names as colabtools' google/colab/errors.py)."""


class Error(Exception):
    """Base class of Colab's errors."""
