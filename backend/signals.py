"""Per-sample signals of a trained model: what membership attacks and charts read.

Output signals come from float64 logits, so confident samples keep their resolution:

- ``loss``: cross-entropy of the true label;
- ``confidence``: the probability of the true label, p_y;
- ``scaled_confidence``: log p_y − log Σ_{i≠y} p_i, which does not saturate at 1.0;
- ``entropy``: −Σ p_i log p_i of the prediction;
- ``modified_entropy``: −(1 − p_y) log p_y − Σ_{i≠y} p_i log(1 − p_i)
  (Song & Mittal, USENIX Security 2021), low for confident correct predictions.

The distance to the decision boundary is found by iterative gradient-sign steps (as in
PGD) that push each input away from the model's own prediction until the prediction
changes. The perturbation at the first flip gives the ℓ∞, ℓ2 and ℓ1 distances.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from backend.device import default_device
from backend.errors import CensoredDistanceWarning
from backend.models import Classifier

__all__ = ["output_signals", "boundary_distance", "NORMS"]

NORMS = ("linf", "l2", "l1")
_BOUNDARY_BATCH = 512


def output_signals(logits: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Signals of every sample from its logits, (n, classes), and true labels, (n,)."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.arange(len(labels))

    # d = log Σ_{i≠y} exp(z_i − z_y). Then log p_y = −log(1 + e^d) and
    # log Σ_{i≠y} p_i = d + log p_y, both exact in the tails where p_y rounds to 1.
    d = _logsumexp_excluding(logits - logits[rows, labels][:, None], labels)
    log_py = -np.logaddexp(0.0, d)
    log_rest = d + log_py

    log_p = logits - _logsumexp(logits)[:, None]
    p = np.exp(log_p)
    # log(1 − p_i): log1p(−p_i) is accurate while p_i ≤ 1/2, which holds for every class
    # except possibly the top one; for that one, use log Σ_{j≠top} p_j.
    log1m_p = np.log1p(-np.minimum(p, 0.5))
    top = logits.argmax(axis=1)
    log1m_p[rows, top] = _logsumexp_excluding(log_p, top)
    other_terms = (p * log1m_p).sum(axis=1) - p[rows, labels] * log1m_p[rows, labels]
    modified_entropy = -np.exp(log_rest) * log_py - other_terms
    entropy = -(p * log_p).sum(axis=1)

    return pd.DataFrame(
        {
            "loss": -log_py,
            "confidence": p[rows, labels],
            "scaled_confidence": log_py - log_rest,
            "entropy": entropy,
            "modified_entropy": modified_entropy,
            "correct": logits.argmax(axis=1) == labels,
        }
    )


def _logsumexp(a: np.ndarray) -> np.ndarray:
    top = a.max(axis=1, keepdims=True)
    return top[:, 0] + np.log(np.exp(a - top).sum(axis=1))


def _logsumexp_excluding(a: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Row-wise log Σ exp over every column but ``column[row]``."""
    masked = a.copy()
    masked[np.arange(len(a)), column] = -np.inf
    return _logsumexp(masked)


def boundary_distance(
    model: Classifier,
    x: np.ndarray,
    *,
    steps: int = 50,
    step_size: float = 0.01,
    lower: float = 0.0,
    upper: float = 1.0,
    device: str | None = None,
) -> pd.DataFrame:
    """Distance from each input to the model's decision boundary.

    Each input takes up to ``steps`` gradient-sign steps of size ``step_size`` that
    raise the loss of the model's own prediction, staying inside [lower, upper]. The
    search for a sample stops at the first step where the prediction changes.

    Args:
        model: a trained classifier (used in eval mode).
        x: float32 inputs, (n, ...).
        steps: the step budget.
        step_size: the ℓ∞ size of one step, in input units.

    Returns:
        A DataFrame with ``linf``, ``l2``, ``l1`` (the perturbation at the first flip),
        ``steps`` (steps taken) and ``censored`` (True when the prediction never
        changed; the distances are then lower bounds, the perturbation after the last
        step). Warns with :class:`CensoredDistanceWarning` if any sample is censored.
    """
    dev = default_device(device)
    model = model.eval().to(dev)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    parts = [
        _boundary_batch(
            model,
            x[start : start + _BOUNDARY_BATCH],
            steps,
            step_size,
            lower,
            upper,
            dev,
        )
        for start in range(0, len(x), _BOUNDARY_BATCH)
    ]
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    model.cpu()
    result = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[*NORMS, "steps", "censored"])
    )
    censored = int(result["censored"].sum()) if len(result) else 0
    if censored:
        warnings.warn(
            f"{censored} of {len(result)} samples did not cross the decision boundary "
            f"within {steps} steps of {step_size}; their distances are lower bounds.",
            CensoredDistanceWarning,
            stacklevel=2,
        )
    return result


def _boundary_batch(model, xb, steps, step_size, lower, upper, dev) -> pd.DataFrame:
    origin = torch.as_tensor(xb, dtype=torch.float32, device=dev)
    with torch.no_grad():
        original = model(origin).argmax(1)
    n = len(origin)
    current = origin.clone()
    crossed_at = torch.full((n,), -1, dtype=torch.long, device=dev)
    found = torch.zeros_like(origin)  # the perturbation at the first flip

    for step in range(1, steps + 1):
        active = crossed_at < 0
        if not active.any():
            break
        # One gradient-sign step on the still-active samples only.
        xa = current[active].requires_grad_(True)
        loss = F.cross_entropy(model(xa), original[active], reduction="sum")
        (grad,) = torch.autograd.grad(loss, xa)
        stepped = (xa.detach() + step_size * grad.sign()).clamp(lower, upper)
        current[active] = stepped
        with torch.no_grad():
            flipped = model(stepped).argmax(1) != original[active]
        index = active.nonzero().squeeze(1)[flipped]
        crossed_at[index] = step
        found[index] = current[index] - origin[index]

    censored = crossed_at < 0
    found[censored] = (current - origin)[censored]
    delta = found.flatten(1).double()
    return pd.DataFrame(
        {
            "linf": delta.abs().amax(1).cpu().numpy(),
            "l2": delta.norm(dim=1).cpu().numpy(),
            "l1": delta.abs().sum(1).cpu().numpy(),
            "steps": torch.where(censored, steps, crossed_at).cpu().numpy(),
            "censored": censored.cpu().numpy(),
        }
    )
