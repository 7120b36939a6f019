"""Seeded, batched training and inference for the models in :mod:`backend.models`.

Training is SGD with momentum and a cosine learning-rate schedule (the study's recipe:
lr 0.1, momentum 0.9, weight decay 5e-4, batch 128, random crop and horizontal flip).
The augmentation runs on whole batches on the training device, so there is no per-sample
Python loop.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from backend.device import default_device
from backend.models import Classifier, build_model
from backend.specs import ModelSpec, TrainSpec

__all__ = [
    "Progress",
    "train_model",
    "predict_logits",
    "embed",
    "accuracy",
    "model_to_bytes",
    "model_from_bytes",
]

Progress = Callable[[float, str], None]

INFERENCE_BATCH = 1024


def _no_progress(fraction: float, message: str) -> None:
    return None


def _augment(
    xb: torch.Tensor, generator: torch.Generator, *, flip: bool = True
) -> torch.Tensor:
    """Random crop (zero padding of 1/8 of the side) and horizontal flip, per sample."""
    n, _, h, w = xb.shape
    pad = max(1, h // 8)
    padded = F.pad(xb, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(xb.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(xb.device)
    # Gather the crops with index arithmetic: rows (n, h, 1) and columns (n, 1, w).
    rows = (dy[:, None] + torch.arange(h, device=xb.device))[:, :, None]
    cols = (dx[:, None] + torch.arange(w, device=xb.device))[:, None, :]
    batch = torch.arange(n, device=xb.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    if flip:
        mask = (torch.rand(n, generator=generator) < 0.5).to(xb.device)
        out = torch.where(mask[:, None, None, None], out.flip(3), out)
    return out.contiguous()


def train_model(
    model_spec: ModelSpec,
    train_spec: TrainSpec,
    x: np.ndarray,
    y: np.ndarray,
    *,
    num_classes: int,
    kind: str = "image",
    device: str | None = None,
    progress: Progress | None = None,
    sample_weight: np.ndarray | None = None,
) -> Classifier:
    """Train a fresh model on (x, y) and return it in eval mode on the CPU.

    Args:
        model_spec: the architecture.
        train_spec: epochs, batch size, learning rate, augmentation and seed.
        x: float32 inputs, (n, C, H, W) for images or (n, D) for tables.
        y: int labels, (n,).
        num_classes: size of the output layer.
        kind: "image" or "tabular"; augmentation applies to images only.
        device: torch device name; CUDA when available by default.
        progress: called as ``progress(fraction, message)`` after every epoch.
        sample_weight: optional per-sample loss weights, (n,).
    """
    progress = progress or _no_progress
    dev = default_device(device)

    # Seeded initialisation without touching the global RNG of the caller.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(train_spec.seed)
        model = build_model(
            model_spec.arch, input_shape=x.shape[1:], num_classes=num_classes, kind=kind
        )
    model.to(dev)

    # Copies: datasets hand out read-only arrays, which torch must not alias.
    xt = torch.tensor(np.asarray(x), dtype=torch.float32, device=dev)
    yt = torch.tensor(np.asarray(y), dtype=torch.long, device=dev)
    wt = None
    if sample_weight is not None:
        wt = torch.as_tensor(sample_weight, dtype=torch.float32, device=dev)

    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=train_spec.lr,
        momentum=train_spec.momentum,
        weight_decay=train_spec.weight_decay,
        nesterov=False,
    )
    n = len(xt)
    steps_per_epoch = max(1, -(-n // train_spec.batch_size))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=train_spec.epochs * steps_per_epoch
    )
    generator = torch.Generator().manual_seed(train_spec.seed)
    augment = train_spec.augment and kind == "image" and xt.dim() == 4

    for epoch in range(train_spec.epochs):
        model.train()
        order = torch.randperm(n, generator=generator).to(dev)
        total_loss = 0.0
        for start in range(0, n, train_spec.batch_size):
            batch = order[start : start + train_spec.batch_size]
            if len(batch) < 2 and n >= 2:  # BatchNorm needs two samples
                continue
            xb, yb = xt[batch], yt[batch]
            if augment:
                xb = _augment(xb, generator)
            losses = F.cross_entropy(model(xb), yb, reduction="none")
            loss = (losses * wt[batch]).mean() if wt is not None else losses.mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += float(loss.detach()) * len(batch)
        progress(
            (epoch + 1) / train_spec.epochs,
            f"epoch {epoch + 1}/{train_spec.epochs}, loss {total_loss / n:.3f}",
        )

    model.eval()
    return model.cpu()


@torch.no_grad()
def predict_logits(
    model: Classifier, x: np.ndarray, *, device: str | None = None
) -> np.ndarray:
    """Logits as float64, (n, num_classes), computed in batches in eval mode."""
    return _batched(model, x, model.forward, device)


@torch.no_grad()
def embed(model: Classifier, x: np.ndarray, *, device: str | None = None) -> np.ndarray:
    """Penultimate-layer embeddings, float32 (n, embed_dim)."""
    return _batched(model, x, model.embed, device).astype(np.float32)


def _batched(model: Classifier, x: np.ndarray, fn, device: str | None) -> np.ndarray:
    dev = default_device(device)
    model.eval().to(dev)
    outputs = []
    for start in range(0, len(x), INFERENCE_BATCH):
        xb = torch.as_tensor(x[start : start + INFERENCE_BATCH], dtype=torch.float32)
        outputs.append(fn(xb.to(dev)).double().cpu().numpy())
    model.cpu()
    if not outputs:
        return np.zeros((0, 0))
    return np.concatenate(outputs)


def accuracy(model: Classifier, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of the model on (x, y)."""
    if len(y) == 0:
        return float("nan")
    return float((predict_logits(model, x).argmax(1) == y).mean())


def model_to_bytes(model: Classifier) -> bytes:
    """The model's state_dict as bytes (see :func:`model_from_bytes`)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def model_from_bytes(
    data: bytes,
    model_spec: ModelSpec,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    kind: str = "image",
) -> Classifier:
    """Rebuild a model from :func:`model_to_bytes` output, loading weights only."""
    model = build_model(
        model_spec.arch, input_shape=input_shape, num_classes=num_classes, kind=kind
    )
    state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    model.load_state_dict(state)
    return model.eval()
