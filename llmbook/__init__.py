"""Shared code for the chapters: model profiles, the substitution table and offline assets."""

from .banner import show_banner
from .models import hub_file, pick_model, pick_tokenizer
from .profiles import ProfileError, get_device, get_profile

__all__ = ["ProfileError", "get_device", "get_profile", "hub_file", "pick_model", "pick_tokenizer", "show_banner"]
