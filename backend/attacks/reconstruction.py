"""Data reconstruction (model inversion) by importance group of the training data.

Threat model: the attacker has white-box access to one trained target model (its
architecture, weights and batch-norm statistics) and picks a class. It optimises
inputs until the model assigns them that class, hoping to recover what the class's
training images look like. One target model is trained per importance group
(:mod:`backend.attacks.groups`), so the question is whether a model trained on more
valuable samples gives better reconstructions of them.

Attacks (``ATTACKS``):

- ``"deepinversion"`` (Yin et al., CVPR 2020): optimise a batch of images directly,
  minimising the cross-entropy towards the class, plus a prior that the batch's
  feature statistics at every batch-norm layer match the statistics stored in the
  layer, plus total-variation and ℓ2 priors on the pixels; each step sees the batch
  shifted by a random jitter.
- ``"gmi"``, generative model inversion in the spirit of the Secret Revealer (Zhang et
  al., CVPR 2020): a small GAN is trained on auxiliary *public* data of the same domain
  (the split's shadow data, or the valuation reference set), disjoint from every
  target's training data. The inversion searches the generator's latent space for
  images the target assigns to the class (identity loss) and the GAN's critic finds
  realistic (prior loss). The GAN is a WGAN-GP, as in the Secret Revealer:
  DCGAN-like for images of 16 pixels or more whose sides divide by 4, and an MLP
  otherwise (8×8 digits).

Quality of the reconstructions of one group:

- the Fréchet distance between the reconstructions and the group's own training images
  of the same classes, in the feature space of an *evaluator* classifier (a small CNN
  trained on the non-members). This is FID's formula, but not Inception FID: Inception
  weights cannot be downloaded here. It is reported beside the distance that as many
  real unseen images of the same classes get (``fd_real``), a reference point: with
  a few dozen images it is not a floor, and reconstructions that land on the
  classes' typical features can score below it.
- Inception FID through torchmetrics, only when torchmetrics (with torch-fidelity) is
  installed and the Inception weights are already in torch's hub cache; NaN otherwise.
- the nearest-training-sample distance: for each reconstruction, the RMS pixel
  distance to the closest training image of its class in the group, against the
  closest of as many unseen images of the class. A ratio below 1 means the
  reconstructions sit nearer to the training images than to unseen ones: particular
  samples were recovered.

Notes:
    Fréchet distances from a few dozen images are biased upwards (the covariance of
    40 points in 128 dimensions is far from full rank); compare groups at the same
    settings, not with published FIDs.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from backend.attacks.groups import (
    GroupSpec,
    group_index,
    group_labels,
    group_model,
    group_study_inputs,
    group_train_spec,
    groups_computed,
)
from backend.errors import ValueRiskError
from backend.jobs import register_job, staged
from backend.models import Classifier
from backend.pipeline import Context, cached, make_context
from backend.specs import ModelSpec, RunSpec
from backend.store import Store
from backend.training import (
    Progress,
    accuracy,
    embed,
    model_from_bytes,
    model_to_bytes,
    predict_logits,
    train_model,
)

__all__ = [
    "VERSIONS",
    "ATTACKS",
    "PUBLIC_SOURCES",
    "MAX_CLASSES",
    "EVALUATOR_ARCH",
    "RECONSTRUCTION_PRESETS",
    "ReconstructionSpec",
    "make_reconstruction_spec",
    "reconstruction_spec_from_dict",
    "frechet_distance",
    "deep_inversion",
    "Generator",
    "Discriminator",
    "build_gan",
    "train_gan",
    "gan_inversion",
    "nearest_distances",
    "inception_fid_available",
    "inception_fid",
    "reconstruction",
    "reconstruction_report",
    "reconstruction_status",
    "reconstruction_job",
    "QUALITY_METRICS",
    "image_grid",
    "nearest_images",
    "quality_chart",
]

VERSIONS = {
    "reconstruction-gan": 2,
    "reconstruction-evaluator": 1,
    "reconstruction-group": 1,
}

ATTACKS = {
    "deepinversion": "DeepInversion: optimise pixels with batch-norm, TV and ℓ2 priors",
    "gmi": "Generative model inversion: search a GAN's latent space (Secret Revealer)",
}
PUBLIC_SOURCES = {
    "shadow": "the split's shadow members and non-members",
    "reference": "the valuation reference set",
}
MAX_CLASSES = 10  # classes reconstructed by default (the first ten)
EVALUATOR_ARCH = "small-cnn"  # feature space of the Fréchet distance
INCEPTION_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's
# Channels of the DCGAN-like networks' widest layer. At 64, one 28×28 WGAN-GP step
# (two critic updates and a generator update, batch 32) took about 0.2 s on one shared
# CPU core; 128 channels and batch 64, DCGAN's usual, took about 0.9 s.
_WIDTH = 64
_LATENT_BOUND = 3.0  # latent codes are kept in [-3, 3]: inside the prior's mass


# -- settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconstructionSpec:
    """Settings of the reconstruction study (beside the RunSpec)."""

    attacks: tuple[str, ...] = ("deepinversion", "gmi")  # see ATTACKS
    groups: GroupSpec = field(default_factory=GroupSpec)
    classes: tuple[int, ...] = ()  # empty: the first MAX_CLASSES classes
    per_class: int = 4  # reconstructions per class and group
    seed: int = 0  # initial images and latents, GAN, evaluator subsample
    # DeepInversion
    di_steps: int = 300  # Adam steps on the pixels (the paper: 2,000 and more)
    di_lr: float = 0.05  # Adam learning rate on pixels in [0, 1]
    bn_weight: float = 1.0  # batch-norm statistics prior
    tv_weight: float = 1.0  # total variation (mean absolute neighbour difference)
    l2_weight: float = 0.1  # mean squared pixel value
    jitter: int = -1  # largest random shift in pixels; -1: a sixteenth of the side
    # Generative model inversion
    public: str = "shadow"  # the GAN's auxiliary data, see PUBLIC_SOURCES
    gan_steps: int = 600  # generator updates of the WGAN-GP
    critic_steps: int = 2  # critic updates per generator update
    gan_batch: int = 32  # GAN batch size
    latent_dim: int = 32  # size of the generator's input
    gmi_steps: int = 300  # Adam steps on the latent codes
    gmi_lr: float = 0.05  # Adam learning rate on the latent codes
    identity_weight: float = 100.0  # weight of the class loss against the prior
    # Quality
    evaluator_samples: int = 5000  # non-members the evaluator trains on, at most

    def __post_init__(self) -> None:
        unknown = [a for a in self.attacks if a not in ATTACKS]
        if unknown or not self.attacks:
            raise ValueRiskError(
                f"attacks must be one or more of {sorted(ATTACKS)}, got "
                f"{list(self.attacks)}."
            )
        if self.public not in PUBLIC_SOURCES:
            raise ValueRiskError(
                f"public must be one of {sorted(PUBLIC_SOURCES)}, got {self.public!r}."
            )
        for name in (
            "per_class",
            "di_steps",
            "gan_steps",
            "gan_batch",
            "critic_steps",
            "latent_dim",
            "gmi_steps",
            "evaluator_samples",
        ):
            if getattr(self, name) < 1:
                raise ValueRiskError(
                    f"{name} must be a positive integer, got {getattr(self, name)}."
                )
        if self.jitter < -1:
            raise ValueRiskError(
                f"jitter must be -1 (automatic), 0 (none) or more, got {self.jitter}."
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# "demo" fits minutes of one CPU core; "paper" is closer to the attacks' own settings.
RECONSTRUCTION_PRESETS: dict[str, dict] = {
    "demo": {},
    "paper": {
        "per_class": 8,
        "di_steps": 2000,
        "gan_steps": 20000,
        "gan_batch": 64,
        "critic_steps": 5,
        "gmi_steps": 1500,
        "latent_dim": 100,
        "evaluator_samples": 50000,
    },
}


def reconstruction_spec_from_dict(data: dict) -> ReconstructionSpec:
    """Rebuild a :class:`ReconstructionSpec` from its ``to_dict`` output."""
    known = {f.name for f in dataclasses.fields(ReconstructionSpec)}
    unknown = set(data) - known
    if unknown:
        raise ValueRiskError(
            f"unknown reconstruction setting(s) {sorted(unknown)}; known: "
            f"{sorted(known)}."
        )
    values = dict(data)
    for name in ("attacks", "classes"):
        if name in values:
            values[name] = tuple(values[name])
    if isinstance(values.get("groups"), dict):
        values["groups"] = GroupSpec(**values["groups"])
    return ReconstructionSpec(**values)


def make_reconstruction_spec(preset: str = "demo", **overrides) -> ReconstructionSpec:
    """A :class:`ReconstructionSpec` from a preset (``RECONSTRUCTION_PRESETS``) and
    overrides; ``groups`` may be a :class:`GroupSpec` or a dict of its fields."""
    if preset not in RECONSTRUCTION_PRESETS:
        raise ValueRiskError(
            f"unknown preset {preset!r}; choose one of "
            f"{sorted(RECONSTRUCTION_PRESETS)}."
        )
    values = {**RECONSTRUCTION_PRESETS[preset], **overrides}
    if isinstance(values.get("groups"), GroupSpec):
        values["groups"] = dataclasses.asdict(values["groups"])
    return reconstruction_spec_from_dict(values)


# -- the Fréchet distance -------------------------------------------------------------


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors.

    ``‖μa − μb‖² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½)``, the formula of FID (Heusel et
    al., 2017). The matrix square root is taken through symmetric eigendecompositions
    (``Σa^½ Σb Σa^½`` is symmetric positive semi-definite), so it stays real and
    stable for the rank-deficient covariances of small sets.

    Args:
        a: features, (n_a, d), n_a ≥ 2.
        b: features, (n_b, d), n_b ≥ 2.

    Returns:
        The distance, ≥ 0 (0 for identical sets, up to rounding).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueRiskError(
            f"the Fréchet distance needs two (n, d) arrays of the same d; got shapes "
            f"{a.shape} and {b.shape}."
        )
    if len(a) < 2 or len(b) < 2:
        raise ValueRiskError(
            f"the Fréchet distance needs at least two vectors per set; got {len(a)} "
            f"and {len(b)}."
        )
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a = np.cov(a, rowvar=False).reshape(a.shape[1], a.shape[1])
    cov_b = np.cov(b, rowvar=False).reshape(b.shape[1], b.shape[1])

    # tr((Σa^½ Σb Σa^½)^½) = the sum of the square roots of that matrix's eigenvalues.
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_root = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    distance = (
        np.sum((mean_a - mean_b) ** 2)
        + np.trace(cov_a)
        + np.trace(cov_b)
        - 2 * trace_root
    )
    return float(max(distance, 0.0))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ vectors.T


# -- DeepInversion --------------------------------------------------------------------


def _jitter(x: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """The batch rolled by one random offset in [-shift, shift] along each axis."""
    if shift < 1:
        return x
    dy, dx = (torch.randint(-shift, shift + 1, (2,), generator=generator)).tolist()
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def _total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels."""
    return (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean() + (
        x[:, :, :, 1:] - x[:, :, :, :-1]
    ).abs().mean()


class _BatchNormPrior:
    """Collects, at every batch-norm layer, the distance between the batch's feature
    statistics and the layer's running statistics (DeepInversion's feature prior)."""

    def __init__(self, model: nn.Module) -> None:
        self.terms: list[torch.Tensor] = []
        self.handles = [
            m.register_forward_hook(self._hook)
            for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
        ]

    def _hook(self, module, inputs, output) -> None:
        x = inputs[0]
        dims = [0, *range(2, x.dim())]
        mean = x.mean(dims)
        var = x.var(dims, unbiased=False)
        self.terms.append(
            torch.linalg.vector_norm(mean - module.running_mean)
            + torch.linalg.vector_norm(var - module.running_var)
        )

    def take(self) -> torch.Tensor:
        total = sum(self.terms, torch.tensor(0.0))
        self.terms = []
        return total

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def deep_inversion(
    model: Classifier,
    labels: np.ndarray,
    *,
    input_shape: tuple[int, ...],
    steps: int = 300,
    lr: float = 0.05,
    bn_weight: float = 1.0,
    tv_weight: float = 1.0,
    l2_weight: float = 0.1,
    jitter: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """DeepInversion: images the model assigns to ``labels``, from noise.

    Loss per step: cross-entropy of the jittered batch towards ``labels``
    + ``bn_weight`` · Σ over batch-norm layers (‖μ_batch − μ_running‖ + ‖σ²_batch −
    σ²_running‖) + ``tv_weight`` · TV + ``l2_weight`` · mean(x²). Pixels stay in [0, 1].

    Args:
        model: the target model (its weights are not changed).
        labels: the class of each image to make, int (n,).
        input_shape: (C, H, W).
        steps, lr: Adam steps and learning rate on the pixels; defaults 300 and 0.05.
        bn_weight, tv_weight, l2_weight: weights of the priors.
        jitter: largest random shift in pixels per step, default 1 (0: none).
        seed: initial noise and jitter.
        progress: ``progress(fraction, message)`` every few steps.

    Returns:
        The images, float32 (n, C, H, W) in [0, 1], and the total loss at every step,
        float64 (steps,).
    """
    progress = progress or (lambda fraction, message: None)
    generator = torch.Generator().manual_seed(seed)
    model = model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    targets = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    # Start from mid-grey noise; optimise the pixels themselves.
    x = 0.5 + 0.2 * torch.randn((len(targets), *input_shape), generator=generator)
    x = x.clamp(0, 1).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr, betas=(0.5, 0.99))
    prior = _BatchNormPrior(model)
    history = np.zeros(steps)
    try:
        for step in range(steps):
            optimizer.zero_grad(set_to_none=True)
            logits = model(_jitter(x, jitter, generator))
            loss = (
                F.cross_entropy(logits, targets)
                + bn_weight * prior.take()
                + tv_weight * _total_variation(x)
                + l2_weight * x.pow(2).mean()
            )
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                x.clamp_(0, 1)
            history[step] = float(loss.detach())
            if (step + 1) % max(1, steps // 20) == 0 or step + 1 == steps:
                progress((step + 1) / steps, f"step {step + 1}/{steps}")
    finally:
        prior.close()
        for parameter in model.parameters():
            parameter.requires_grad_(True)
    return x.detach().numpy().astype(np.float32), history


# -- the GAN and generative model inversion -------------------------------------------


def _dcgan_ok(input_shape: tuple[int, ...]) -> bool:
    _, h, w = input_shape
    return h >= 16 and w >= 16 and h % 4 == 0 and w % 4 == 0


class Generator(nn.Module):
    """Latent codes (n, latent_dim) to images (n, C, H, W) in [0, 1].

    DCGAN-like (a linear layer to a (64, H/4, W/4) map, then two stride-2 transposed
    convolutions) when the sides are ≥ 16 and divide by 4; a two-hidden-layer MLP
    otherwise.
    """

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        c, h, w = input_shape
        self.input_shape = tuple(input_shape)
        self.convolutional = _dcgan_ok(input_shape)
        if self.convolutional:
            self.net = nn.Sequential(
                nn.Linear(latent_dim, _WIDTH * (h // 4) * (w // 4)),
                nn.Unflatten(1, (_WIDTH, h // 4, w // 4)),
                nn.BatchNorm2d(_WIDTH),
                nn.ReLU(),
                nn.ConvTranspose2d(_WIDTH, _WIDTH // 2, 4, stride=2, padding=1),
                nn.BatchNorm2d(_WIDTH // 2),
                nn.ReLU(),
                nn.ConvTranspose2d(_WIDTH // 2, c, 4, stride=2, padding=1),
                nn.Sigmoid(),
            )
        else:
            self.net = nn.Sequential(
                nn.Linear(latent_dim, 128),
                nn.ReLU(),
                nn.Linear(128, 256),
                nn.ReLU(),
                nn.Linear(256, c * h * w),
                nn.Sigmoid(),
                nn.Unflatten(1, (c, h, w)),
            )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """Images (n, C, H, W) to a realism score (n,): a WGAN critic, so it has no
    batch normalisation (the gradient penalty is taken per sample). Mirrors
    :class:`Generator`."""

    def __init__(self, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        c, h, w = input_shape
        if _dcgan_ok(input_shape):
            self.net = nn.Sequential(
                nn.Conv2d(c, _WIDTH // 2, 4, stride=2, padding=1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(_WIDTH // 2, _WIDTH, 4, stride=2, padding=1),
                nn.LeakyReLU(0.2),
                nn.Flatten(),
                nn.Linear(_WIDTH * (h // 4) * (w // 4), 1),
            )
        else:
            self.net = nn.Sequential(
                nn.Flatten(),
                nn.Linear(c * h * w, 256),
                nn.LeakyReLU(0.2),
                nn.Linear(256, 128),
                nn.LeakyReLU(0.2),
                nn.Linear(128, 1),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def build_gan(
    input_shape: tuple[int, ...], latent_dim: int, *, seed: int = 0
) -> tuple[Generator, Discriminator]:
    """A freshly initialised generator and discriminator (seeded)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Generator(input_shape, latent_dim), Discriminator(input_shape)


def train_gan(
    images: np.ndarray,
    *,
    latent_dim: int = 32,
    steps: int = 600,
    batch_size: int = 32,
    critic_steps: int = 2,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[Generator, Discriminator, dict]:
    """Train a small WGAN-GP (Gulrajani et al., 2017) on images in [0, 1].

    The Secret Revealer trains its GAN the same way; a plain GAN collapses to one
    image on a few hundred 8×8 digits. Adam (2e-4, β = (0.5, 0.9)), gradient penalty
    weight 10.

    Args:
        images: float32 (n, C, H, W) in [0, 1], the public data.
        latent_dim: size of the latent code, default 32.
        steps: generator updates, default 600.
        batch_size: default 32.
        critic_steps: critic updates per generator update, default 2.
        seed: initialisation, batches and latent draws.
        progress: ``progress(fraction, message)`` every few steps.

    Returns:
        The generator and critic (eval mode) and ``{"critic_gap", "g_loss"}``: the
        critic's mean score of real minus generated images, and the generator's loss,
        both averaged over the last tenth of training.
    """
    progress = progress or (lambda fraction, message: None)
    if len(images) < 2:
        raise ValueRiskError(
            f"the GAN needs at least two public images; got {len(images)}."
        )
    generator_net, critic = build_gan(images.shape[1:], latent_dim, seed=seed)
    rng = torch.Generator().manual_seed(seed)
    data = torch.as_tensor(np.ascontiguousarray(images), dtype=torch.float32)
    opt_g = torch.optim.Adam(generator_net.parameters(), lr=2e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.9))
    batch_size = min(batch_size, len(data))
    gaps, g_losses = [], []
    for step in range(steps):
        # Critic: score real images above generated ones, with a gradient penalty
        # on points between them.
        for _ in range(critic_steps):
            real = data[torch.randint(0, len(data), (batch_size,), generator=rng)]
            with torch.no_grad():
                fake = generator_net(torch.randn(batch_size, latent_dim, generator=rng))
            mix = torch.rand(batch_size, 1, 1, 1, generator=rng)
            between = (mix * real + (1 - mix) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(
                critic(between).sum(), between, create_graph=True
            )
            penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
            gap = critic(real).mean() - critic(fake).mean()
            d_loss = -gap + 10.0 * penalty
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()

        # Generator: raise the critic's score of its images.
        z = torch.randn(batch_size, latent_dim, generator=rng)
        g_loss = -critic(generator_net(z)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        gaps.append(float(gap.detach()))
        g_losses.append(float(g_loss.detach()))
        if (step + 1) % max(1, steps // 50) == 0 or step + 1 == steps:
            progress((step + 1) / steps, f"GAN step {step + 1}/{steps}")
    tail = max(1, steps // 10)
    losses = {
        "critic_gap": float(np.mean(gaps[-tail:])),
        "g_loss": float(np.mean(g_losses[-tail:])),
    }
    return generator_net.eval(), critic.eval(), losses


def gan_inversion(
    model: Classifier,
    generator_net: Generator,
    discriminator: Discriminator,
    labels: np.ndarray,
    *,
    latent_dim: int,
    steps: int = 300,
    lr: float = 0.05,
    identity_weight: float = 100.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generative model inversion: latent codes whose images the model puts in
    ``labels`` and the discriminator finds realistic.

    Loss: −D(G(z)) (the critic's prior) + ``identity_weight`` · cross-entropy of the
    model on G(z) towards the label; Adam on z, which is kept in [-3, 3].

    Returns:
        The images, float32 (n, C, H, W) in [0, 1], and the total loss at every step,
        float64 (steps,).
    """
    progress = progress or (lambda fraction, message: None)
    nets = (model.eval(), generator_net.eval(), discriminator.eval())
    for net in nets:
        for parameter in net.parameters():
            parameter.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    targets = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    z = torch.randn(len(targets), latent_dim, generator=generator)
    z = z.clamp(-_LATENT_BOUND, _LATENT_BOUND).requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    history = np.zeros(steps)
    try:
        for step in range(steps):
            optimizer.zero_grad(set_to_none=True)
            images = generator_net(z)
            prior = -discriminator(images).mean()
            identity = F.cross_entropy(model(images), targets)
            loss = prior + identity_weight * identity
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                z.clamp_(-_LATENT_BOUND, _LATENT_BOUND)
            history[step] = float(loss.detach())
            if (step + 1) % max(1, steps // 20) == 0 or step + 1 == steps:
                progress((step + 1) / steps, f"step {step + 1}/{steps}")
        with torch.no_grad():
            images = generator_net(z).numpy().astype(np.float32)
    finally:
        for net in nets:
            for parameter in net.parameters():
                parameter.requires_grad_(True)
    return images, history


# -- quality --------------------------------------------------------------------------


def nearest_distances(
    images: np.ndarray, pool: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each image, the RMS pixel distance to its nearest image in ``pool``.

    Args:
        images: (n, ...) float in [0, 1].
        pool: (m, ...) of the same sample shape, m ≥ 1.

    Returns:
        The distances, float64 (n,), and the positions in ``pool`` of the nearest
        images, int64 (n,).
    """
    a = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    b = np.asarray(pool, dtype=np.float64).reshape(len(pool), -1)
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T  # (n, m)
    nearest = squared.argmin(1)
    distance = np.sqrt(
        np.clip(squared[np.arange(len(a)), nearest], 0, None) / a.shape[1]
    )
    return distance, nearest.astype(np.int64)


def inception_fid_available() -> bool:
    """True when torchmetrics, torch-fidelity and the Inception weights are present
    locally (nothing is downloaded)."""
    if importlib.util.find_spec("torchmetrics") is None:
        return False
    if importlib.util.find_spec("torch_fidelity") is None:
        return False
    return (Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS).is_file()


def inception_fid(real: np.ndarray, fake: np.ndarray) -> float:
    """Inception FID (torchmetrics) between two image sets in [0, 1], (n, C, H, W);
    NaN when :func:`inception_fid_available` is False."""
    if not inception_fid_available():
        return float("nan")
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=2048, normalize=True)
    for images, is_real in ((real, True), (fake, False)):
        batch = torch.as_tensor(images, dtype=torch.float32)
        if batch.shape[1] == 1:
            batch = batch.repeat(1, 3, 1, 1)
        metric.update(batch, real=is_real)
    return float(metric.compute())


# -- the study ------------------------------------------------------------------------


def _check_images(ctx: Context) -> None:
    if ctx.data.info.kind != "image":
        raise ValueRiskError(
            f"reconstruction needs image data; dataset {ctx.data.info.name!r} is "
            f"{ctx.data.info.kind}. Choose an image dataset such as digits."
        )


def _classes(ctx: Context, spec: ReconstructionSpec) -> list[int]:
    num_classes = ctx.data.info.num_classes
    classes = list(spec.classes) or list(range(min(num_classes, MAX_CLASSES)))
    bad = [c for c in classes if not 0 <= c < num_classes]
    if bad:
        raise ValueRiskError(
            f"classes {bad} do not exist; dataset {ctx.data.info.name!r} has classes "
            f"0 to {num_classes - 1}."
        )
    return classes


def _jitter_pixels(ctx: Context, spec: ReconstructionSpec) -> int:
    if spec.jitter >= 0:
        return spec.jitter
    return ctx.data.info.input_shape[1] // 16


def _public_index(ctx: Context, spec: ReconstructionSpec) -> np.ndarray:
    if spec.public == "reference":
        return ctx.split.reference
    return np.concatenate([ctx.split.shadow_members, ctx.split.shadow_nonmembers])


def _gan_inputs(ctx: Context, spec: ReconstructionSpec) -> dict:
    return {
        **ctx.base_inputs(),
        "public": spec.public,
        "gan_steps": spec.gan_steps,
        "gan_batch": spec.gan_batch,
        "critic_steps": spec.critic_steps,
        "latent_dim": spec.latent_dim,
        "seed": spec.seed,
    }


def _gan(ctx: Context, spec: ReconstructionSpec, progress: Progress | None = None):
    """The GAN trained on the public data, trained once, then loaded."""
    input_shape = ctx.data.info.input_shape

    def compute() -> dict:
        started = time.perf_counter()
        index = _public_index(ctx, spec)
        g, d, losses = train_gan(
            ctx.data.features(index),
            latent_dim=spec.latent_dim,
            steps=spec.gan_steps,
            batch_size=spec.gan_batch,
            critic_steps=spec.critic_steps,
            seed=spec.seed,
            progress=progress,
        )
        return {
            "generator": model_to_bytes(g),
            "discriminator": model_to_bytes(d),
            "public_samples": int(len(index)),
            "seconds": time.perf_counter() - started,
            **losses,
        }

    payload = cached(
        ctx,
        "reconstruction-gan",
        VERSIONS["reconstruction-gan"],
        _gan_inputs(ctx, spec),
        compute,
    )
    g, d = build_gan(input_shape, spec.latent_dim)
    for net, key in ((g, "generator"), (d, "discriminator")):
        state = torch.load(
            io.BytesIO(payload[key]), weights_only=True, map_location="cpu"
        )
        net.load_state_dict(state)
    info = {k: v for k, v in payload.items() if k not in ("generator", "discriminator")}
    return g.eval(), d.eval(), info


def _evaluator_inputs(ctx: Context, spec: ReconstructionSpec) -> dict:
    return {
        **ctx.base_inputs(),
        "arch": EVALUATOR_ARCH,
        "train": dataclasses.asdict(ctx.spec.train),
        "min_steps": spec.groups.min_steps,
        "evaluator_samples": spec.evaluator_samples,
        "seed": spec.seed,
    }


def _evaluator(
    ctx: Context, spec: ReconstructionSpec, progress: Progress | None = None
):
    """The evaluator classifier whose embedding the Fréchet distance is measured in:
    trained on (at most ``evaluator_samples``) non-members, tested on the reference
    set."""
    info = ctx.data.info
    model_spec = ModelSpec(arch=EVALUATOR_ARCH)

    def compute() -> dict:
        started = time.perf_counter()
        index = ctx.split.nonmembers
        if len(index) > spec.evaluator_samples:
            rng = np.random.default_rng(spec.seed)
            index = np.sort(rng.choice(index, spec.evaluator_samples, replace=False))
        model = train_model(
            model_spec,
            group_train_spec(ctx.spec.train, len(index), spec.groups.min_steps),
            ctx.data.features(index),
            ctx.data.y[index],
            num_classes=info.num_classes,
            kind=info.kind,
            progress=progress,
        )
        reference = ctx.split.reference
        return {
            "state": model_to_bytes(model),
            "train_samples": int(len(index)),
            "test_accuracy": accuracy(
                model, ctx.data.features(reference), ctx.data.y[reference]
            ),
            "seconds": time.perf_counter() - started,
        }

    payload = cached(
        ctx,
        "reconstruction-evaluator",
        VERSIONS["reconstruction-evaluator"],
        _evaluator_inputs(ctx, spec),
        compute,
    )
    model = model_from_bytes(
        payload["state"],
        model_spec,
        input_shape=info.input_shape,
        num_classes=info.num_classes,
        kind=info.kind,
    )
    return model, {k: v for k, v in payload.items() if k != "state"}


def _group_inputs(
    ctx: Context, spec: ReconstructionSpec, attack: str, group: int
) -> dict:
    inputs = {
        **group_study_inputs(ctx, spec.groups),
        "group": group,
        "attack": attack,
        "classes": _classes(ctx, spec),
        "per_class": spec.per_class,
        "seed": spec.seed,
        "evaluator": _evaluator_inputs(ctx, spec),
    }
    if attack == "deepinversion":
        inputs["deepinversion"] = {
            "steps": spec.di_steps,
            "lr": spec.di_lr,
            "bn_weight": spec.bn_weight,
            "tv_weight": spec.tv_weight,
            "l2_weight": spec.l2_weight,
            "jitter": _jitter_pixels(ctx, spec),
        }
    else:
        inputs["gmi"] = {
            "gan": _gan_inputs(ctx, spec),
            "gan_version": VERSIONS["reconstruction-gan"],
            "steps": spec.gmi_steps,
            "lr": spec.gmi_lr,
            "identity_weight": spec.identity_weight,
        }
    return inputs


def _reconstruct_group(
    ctx: Context,
    spec: ReconstructionSpec,
    attack: str,
    group: int,
    progress: Progress | None = None,
) -> dict:
    """One attack against one group's model, with its quality scores (cached)."""
    progress = progress or (lambda fraction, message: None)

    def compute() -> dict:
        model, scores = group_model(ctx, spec.groups, group)
        started = time.perf_counter()
        classes = _classes(ctx, spec)
        labels = np.repeat(classes, spec.per_class)
        seed = spec.seed + 1000 * group

        # Run the attack.
        if attack == "deepinversion":
            images, history = deep_inversion(
                model,
                labels,
                input_shape=ctx.data.info.input_shape,
                steps=spec.di_steps,
                lr=spec.di_lr,
                bn_weight=spec.bn_weight,
                tv_weight=spec.tv_weight,
                l2_weight=spec.l2_weight,
                jitter=_jitter_pixels(ctx, spec),
                seed=seed,
                progress=progress,
            )
        else:
            g, d, _ = _gan(ctx, spec)
            images, history = gan_inversion(
                model,
                g,
                d,
                labels,
                latent_dim=spec.latent_dim,
                steps=spec.gmi_steps,
                lr=spec.gmi_lr,
                identity_weight=spec.identity_weight,
                seed=seed,
                progress=progress,
            )
        attack_seconds = time.perf_counter() - started
        quality = _quality(ctx, spec, group, images, labels)
        logits = predict_logits(model, images)
        return {
            "images": np.round(images * 255).astype(np.uint8),
            "labels": labels.astype(np.int64),
            "predicted": logits.argmax(1).astype(np.int64),
            "loss_start": float(history[0]),
            "loss_end": float(history[-1]),
            "attack_seconds": attack_seconds,
            "group_model": scores,
            **quality,
        }

    return cached(
        ctx,
        "reconstruction-group",
        VERSIONS["reconstruction-group"],
        _group_inputs(ctx, spec, attack, group),
        compute,
    )


def _quality(
    ctx: Context,
    spec: ReconstructionSpec,
    group: int,
    images: np.ndarray,
    labels: np.ndarray,
) -> dict:
    """Fréchet distances and nearest-sample distances of one group's reconstructions."""
    classes = _classes(ctx, spec)
    members = group_index(ctx, spec.groups)[group]
    members = members[np.isin(ctx.data.y[members], classes)]
    rng = np.random.default_rng(spec.seed + group)

    # Unseen images: non-members of the same classes, per class as many as the
    # group has (for the nearest-sample distance) and as many as were reconstructed
    # (for the Fréchet distance's reference point).
    nonmembers = ctx.split.nonmembers
    heldout_nn, heldout_fd = [], []
    for c in classes:
        pool = nonmembers[ctx.data.y[nonmembers] == c]
        n_group = int((ctx.data.y[members] == c).sum())
        heldout_nn.append(rng.choice(pool, min(len(pool), n_group), replace=False))
        heldout_fd.append(
            rng.choice(pool, min(len(pool), spec.per_class), replace=False)
        )
    heldout_fd = np.concatenate(heldout_fd)

    # Fréchet distances in the evaluator's feature space.
    evaluator, _ = _evaluator(ctx, spec)
    real = ctx.data.features(members)
    real_features = embed(evaluator, real)
    fd = frechet_distance(embed(evaluator, images), real_features)
    fd_real = frechet_distance(
        embed(evaluator, ctx.data.features(heldout_fd)), real_features
    )

    # Nearest training image of the same class in the group, against unseen ones.
    nn_train = np.full(len(images), np.nan)
    nn_heldout = np.full(len(images), np.nan)
    nearest = np.full(len(images), -1, dtype=np.int64)
    for c, pool_out in zip(classes, heldout_nn, strict=True):
        mine = labels == c
        pool_in = members[ctx.data.y[members] == c]
        if not mine.any() or len(pool_in) == 0:
            continue
        nn_train[mine], where = nearest_distances(
            images[mine], ctx.data.features(pool_in)
        )
        nearest[mine] = pool_in[where]
        if len(pool_out):
            nn_heldout[mine], _ = nearest_distances(
                images[mine], ctx.data.features(pool_out)
            )
    return {
        "fd": fd,
        "fd_real": fd_real,
        "inception_fid": inception_fid(real, images),
        "nearest_index": nearest,
        "nn_train": nn_train,
        "nn_heldout": nn_heldout,
    }


def reconstruction(
    ctx: Context, spec: ReconstructionSpec, *, progress: Progress | None = None
) -> dict:
    """Every attack of the spec against one target model per importance group.

    Returns a dict:

    - ``quality``: one row per attack and group: ``attack``, ``group`` (0 = least
      important), ``group_label``, ``fd`` (Fréchet distance in the evaluator's
      features to the group's training images), ``fd_real`` (the same for as many
      unseen real images), ``inception_fid`` (NaN when unavailable), ``nn_train`` and
      ``nn_heldout`` (mean nearest-sample RMS distances), ``nn_ratio``,
      ``target_accuracy`` (share of reconstructions the target puts in their class),
      ``loss_start``, ``loss_end``, ``seconds`` (the attack's wall time),
      ``group_test_accuracy``.
    - ``images``: ``{(attack, group): payload}`` with ``images`` (uint8 (n, C, H,
      W)), ``labels``, ``predicted``, ``nearest_index`` (into the pooled dataset, −1
      when the group has no image of the class), ``nn_train``, ``nn_heldout``.
    - ``classes``, ``per_class``, ``attacks``, ``n_groups``, ``evaluator``
      (``train_samples``, ``test_accuracy``, ``seconds``), ``gan`` (``public_samples``,
      ``critic_gap``, ``g_loss``, ``seconds``; None without the "gmi" attack),
      ``group_seconds`` (training time of each group model), ``fd_name``,
      ``inception_available``.

    Raises:
        ValueRiskError: tabular data, unknown classes, too few members.
        pipeline.NotComputed: a part is missing and ``ctx`` is read-only.
    """
    # Check the data and the settings before anything is trained.
    _check_images(ctx)
    _classes(ctx, spec)
    progress = progress or (lambda fraction, message: None)
    n_groups = spec.groups.n_groups
    weights = [("group models", 3.0), ("evaluator", 1.0)]
    if "gmi" in spec.attacks:
        weights.append(("GAN", 3.0))
    weights += [(attack, 2.0) for attack in spec.attacks]
    stage = staged(progress, weights)

    # Shared parts first: the group models, the evaluator and the GAN.
    group_progress = stage("group models")
    group_seconds = []
    for g in range(n_groups):
        _, scores = group_model(
            ctx,
            spec.groups,
            g,
            progress=lambda f, m, g=g: group_progress((g + f) / n_groups, m),
        )
        group_seconds.append(scores.get("seconds", float("nan")))
    _, evaluator_info = _evaluator(ctx, spec, progress=stage("evaluator"))
    gan_info = None
    if "gmi" in spec.attacks:
        _, _, gan_info = _gan(ctx, spec, progress=stage("GAN"))

    # Each attack against each group's model.
    rows, images = [], {}
    labels = group_labels(n_groups)
    for attack in spec.attacks:
        attack_progress = stage(attack)
        for g in range(n_groups):
            payload = _reconstruct_group(
                ctx,
                spec,
                attack,
                g,
                progress=lambda f, m, g=g, p=attack_progress: p(
                    (g + f) / n_groups, f"group {g + 1}: {m}"
                ),
            )
            images[(attack, g)] = payload
            correct = payload["predicted"] == payload["labels"]
            nn_train = float(np.nanmean(payload["nn_train"]))
            nn_heldout = float(np.nanmean(payload["nn_heldout"]))
            rows.append(
                {
                    "attack": attack,
                    "group": g,
                    "group_label": labels[g],
                    "fd": payload["fd"],
                    "fd_real": payload["fd_real"],
                    "inception_fid": payload["inception_fid"],
                    "nn_train": nn_train,
                    "nn_heldout": nn_heldout,
                    "nn_ratio": nn_train / nn_heldout,
                    "target_accuracy": float(correct.mean()),
                    "loss_start": payload["loss_start"],
                    "loss_end": payload["loss_end"],
                    "seconds": payload["attack_seconds"],
                    "group_test_accuracy": payload["group_model"]["test_accuracy"],
                }
            )
    return {
        "quality": pd.DataFrame(rows),
        "images": images,
        "classes": _classes(ctx, spec),
        "per_class": spec.per_class,
        "attacks": list(spec.attacks),
        "n_groups": n_groups,
        "evaluator": evaluator_info,
        "gan": gan_info,
        "group_seconds": group_seconds,
        "fd_name": f"Fréchet distance in the features of a {EVALUATOR_ARCH} trained on "
        "the non-members (not Inception FID)",
        "inception_available": inception_fid_available(),
    }


def reconstruction_report(result: dict) -> dict:
    """The result as plain JSON-able data, for the CLI and reports.

    Returns:
        ``quality``: one record per attack and group (the quality table without the
        losses); ``seconds``: wall time of each group model's training, of the
        evaluator, of the GAN and of each attack's runs (when they ran);
        ``evaluator``, ``gan``, ``fd_name``.
    """
    quality = result["quality"]
    columns = [
        "attack",
        "group_label",
        "fd",
        "fd_real",
        "inception_fid",
        "nn_train",
        "nn_heldout",
        "nn_ratio",
        "target_accuracy",
        "group_test_accuracy",
        "seconds",
    ]
    seconds = {
        "group models": [float(s) for s in result["group_seconds"]],
        "evaluator": float(result["evaluator"]["seconds"]),
    }
    if result["gan"] is not None:
        seconds["GAN"] = float(result["gan"]["seconds"])
    for attack, rows in quality.groupby("attack"):
        seconds[attack] = [float(s) for s in rows.sort_values("group")["seconds"]]
    return {
        "quality": quality[columns]
        .rename(columns={"group_label": "group"})
        .to_dict(orient="records"),
        "seconds": seconds,
        "evaluator": result["evaluator"],
        "gan": result["gan"],
        "fd_name": result["fd_name"],
    }


def reconstruction_status(ctx: Context, spec: ReconstructionSpec) -> dict[str, bool]:
    """Which parts of the study are stored."""
    _check_images(ctx)
    has = ctx.store.has
    n = spec.groups.n_groups
    done = groups_computed(ctx, spec.groups)
    status = {
        f"group models ({done} of {n})": done == n,
        "evaluator classifier": has(
            "reconstruction-evaluator",
            VERSIONS["reconstruction-evaluator"],
            _evaluator_inputs(ctx, spec),
        ),
    }
    if "gmi" in spec.attacks:
        status["GAN on public data"] = has(
            "reconstruction-gan", VERSIONS["reconstruction-gan"], _gan_inputs(ctx, spec)
        )
    for attack in spec.attacks:
        count = sum(
            has(
                "reconstruction-group",
                VERSIONS["reconstruction-group"],
                _group_inputs(ctx, spec, attack, g),
            )
            for g in range(n)
        )
        status[f"{attack} ({count} of {n} groups)"] = count == n
    return status


@register_job("reconstruction", "reconstruction attacks against one model per group")
def reconstruction_job(
    spec: RunSpec, store: Store, progress: Progress, settings: dict | None = None
) -> dict:
    """Run :func:`reconstruction` for the RunSpec and the settings (a dict of
    :class:`ReconstructionSpec` fields); returns the quality table's main columns."""
    rspec = reconstruction_spec_from_dict(settings or {})
    ctx = make_context(spec, store=store)
    result = reconstruction(ctx, rspec, progress=progress)
    quality = result["quality"]
    return {
        "quality": quality[
            ["attack", "group", "fd", "fd_real", "nn_ratio", "seconds"]
        ].to_dict(orient="records")
    }


# -- pictures and charts --------------------------------------------------------------


def image_grid(images: np.ndarray, n_cols: int, *, scale: int = 1, pad: int = 1):
    """Tile uint8 images (n, C, H, W) into one picture, row by row, upscaled by an
    integer ``scale`` with nearest-neighbour (tiny images stay sharp).

    Returns:
        uint8 (rows·(H·scale + pad) + pad, n_cols·(W·scale + pad) + pad) for one
        channel, with a trailing 3 for colour; the gaps are white.
    """
    images = np.asarray(images)
    n, c, h, w = images.shape
    n_cols = max(1, min(n_cols, n))
    n_rows = -(-n // n_cols)
    hs, ws = h * scale, w * scale
    grid = np.full(
        (c, n_rows * (hs + pad) + pad, n_cols * (ws + pad) + pad), 255, np.uint8
    )
    big = images.repeat(scale, axis=2).repeat(scale, axis=3)
    for i in range(n):
        r, q = divmod(i, n_cols)
        top, left = pad + r * (hs + pad), pad + q * (ws + pad)
        grid[:, top : top + hs, left : left + ws] = big[i]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def nearest_images(data, index: np.ndarray) -> np.ndarray:
    """The dataset's uint8 images at ``index`` (n, C, H, W); black where the index
    is -1 (no training image of the class in the group)."""
    index = np.asarray(index)
    images = np.zeros((len(index), *data.x.shape[1:]), dtype=np.uint8)
    found = index >= 0
    images[found] = data.x[index[found]]
    return images


QUALITY_METRICS = {
    "fd": "Fréchet distance to the group's training images (lower: closer)",
    "nn_ratio": "nearest training ÷ nearest unseen image distance (below 1: recovered)",
    "nn_train": "RMS distance to the nearest training image of the class",
    "target_accuracy": "share of reconstructions the target puts in their class",
}


def quality_chart(quality: pd.DataFrame, metric: str = "fd") -> alt.Chart:
    """Bars of a quality metric per importance group, one bar group per attack; for
    the Fréchet distance, ticks mark what real unseen images score."""
    if metric not in QUALITY_METRICS:
        raise ValueRiskError(
            f"metric must be one of {sorted(QUALITY_METRICS)}, got {metric!r}."
        )
    order = list(dict.fromkeys(quality.sort_values("group")["group_label"]))
    x = alt.X(
        "group_label:N",
        sort=order,
        title="importance group",
        axis=alt.Axis(labelAngle=0),
    )
    bars = (
        alt.Chart(quality)
        .mark_bar()
        .encode(
            x=x,
            xOffset="attack:N",
            y=alt.Y(f"{metric}:Q", title=QUALITY_METRICS[metric]),
            color=alt.Color("attack:N", title="attack"),
            tooltip=[
                "attack",
                "group_label",
                alt.Tooltip(f"{metric}:Q", format=".4g"),
                alt.Tooltip("fd_real:Q", format=".4g"),
            ],
        )
    )
    chart = bars
    if metric == "fd":
        ticks = (
            alt.Chart(quality)
            .mark_tick(color="black", thickness=2, size=18)
            .encode(x=x, xOffset="attack:N", y="fd_real:Q")
        )
        chart = bars + ticks
    elif metric == "nn_ratio":
        rule = (
            alt.Chart(pd.DataFrame({"nn_ratio": [1.0]}))
            .mark_rule(color="black", strokeDash=[4, 3])
            .encode(y="nn_ratio:Q")
        )
        chart = bars + rule
    return chart.properties(
        title="Reconstruction quality by importance group",
        width="container",
        height=300,
    )
