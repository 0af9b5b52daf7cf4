"""Colab Secrets, as the tier provides them.

On Colab, ``userdata.get(name)`` asks the Colab UI for the secret called ``name``: a missing one raises
``SecretNotFoundError``, one the notebook was not granted raises ``NotebookAccessError``. Here the
secrets are those the tier was given (``python -m tools.colab_tier --secret NAME=VALUE``), read from
the JSON file named by ``$LLMBOOK_COLAB_SECRETS``; with none given every name is missing.
"""

import json as _json
import os as _os
import re as _re

from google.colab import errors as _errors

SECRETS_FILE_VARIABLE = "LLMBOOK_COLAB_SECRETS"


class NotebookAccessError(Exception):
    """The notebook was not granted access to this secret."""

    def __init__(self, key):
        super().__init__(f"Notebook does not have access to secret {key}")


class SecretNotFoundError(_errors.Error):
    """There is no secret of this name."""

    def __init__(self, key):
        super().__init__(f"Secret {key} does not exist.")


class TimeoutException(_errors.Error):
    """The Colab UI did not answer (Colab raises it when a notebook runs outside its UI)."""

    def __init__(self, key):
        super().__init__(f"Requesting secret {key} timed out.")


def _secrets() -> dict:
    path = _os.environ.get(SECRETS_FILE_VARIABLE)
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        return _json.load(handle)


def get(key):
    """The value of the Colab Secret ``key``; raises SecretNotFoundError when there is none."""
    if not key or not isinstance(key, str):
        raise ValueError("Please enter a valid secret name")
    if _re.search(r"\s", key):
        raise ValueError("Secret name cannot contain spaces or whitespace")
    secrets = _secrets()
    if key not in secrets:
        raise SecretNotFoundError(key)
    return secrets[key]
