"""Where ValueRisk reads data and keeps results, and defaults shared by every module.

Paths come from environment variables with defaults under the user's home, never from a
path written in code:

- ``VALUERISK_DATA_ROOT``: the folder holding datasets (default ``~/.valuerisk/data``).
- ``VALUERISK_CACHE_DIR``: the result store (default ``cache/`` beside ``app.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_root", "cache_dir", "PROJECT_ROOT", "DEFAULT_K", "DEFAULT_DATASET"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATASET = "digits"  # ships inside scikit-learn: works with no set-up
DEFAULT_K = 6  # neighbours in KNN-Shapley, as in the study


def data_root() -> Path:
    """The folder datasets are read from (``VALUERISK_DATA_ROOT``)."""
    value = os.environ.get("VALUERISK_DATA_ROOT")
    return Path(value).expanduser() if value else Path.home() / ".valuerisk" / "data"


def cache_dir() -> Path:
    """The folder of the result store (``VALUERISK_CACHE_DIR``)."""
    value = os.environ.get("VALUERISK_CACHE_DIR")
    return Path(value).expanduser() if value else PROJECT_ROOT / "cache"
