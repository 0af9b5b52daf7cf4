"""Colab's output helpers that notebooks call for widgets; outside Colab's UI they do nothing."""


def enable_custom_widget_manager():
    """On Colab this lets third-party ipywidgets render; the tier has no UI, so nothing to do."""


def disable_custom_widget_manager():
    """See enable_custom_widget_manager."""
