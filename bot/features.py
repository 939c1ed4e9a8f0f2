"""Finding the features: every package in ``commands`` that exposes ``feature = Feature(...)``.

The rest of ``bot/`` names no feature; it learns about them here (their commands, catalogs, jobs and
settings sections).
"""

from __future__ import annotations

import importlib
import pkgutil

from pydantic import BaseModel

import commands
from bot.framework import Feature


def discover_features() -> list[Feature]:
    """Every module or package in ``commands`` that exposes ``feature``."""
    features = []
    for module_info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"commands.{module_info.name}")
        feature = getattr(module, "feature", None)
        if isinstance(feature, Feature):
            features.append(feature)
    return sorted(features, key=lambda f: (f.order, f.name))


def feature_sections(features: list[Feature] | None = None) -> dict[str, type[BaseModel]]:
    """Each feature's own settings section (``[sessions]`` …), named after the feature."""
    return {
        f.name: f.settings for f in (features if features is not None else discover_features()) if f.settings
    }
