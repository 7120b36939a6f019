"""Which torch device to run on, and how many CPU threads to use.

CUDA is used whenever it is present; nothing assumes it. On a small CPU machine, thread
oversubscription (two processes each using every core) slows torch by an order of
magnitude, so each worker sets its thread count deliberately.
"""

from __future__ import annotations

import os

import torch

__all__ = ["default_device", "set_worker_threads"]


def default_device(requested: str | None = None) -> torch.device:
    """The requested device, else CUDA when available, else the CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_worker_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (``VALUERISK_THREADS`` or 1 by default)."""
    if threads is None:
        threads = int(os.environ.get("VALUERISK_THREADS", "1"))
    threads = max(1, threads)
    torch.set_num_threads(threads)
    return threads
