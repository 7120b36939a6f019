"""What the risk gallery shows of individual samples: thumbnails and nearest neighbours.

Tiny images (8×8 digits, 28×28 clothes) are upscaled here with nearest-neighbour
sampling, because a browser scaling them up blurs them into grey.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from PIL import Image

from backend.pipeline import Context, representation

__all__ = ["to_image", "data_url", "thumbnails", "nearest_members"]

THUMBNAIL_SIZE = 56  # pixels on the longer side in tables
LARGE_SIZE = 224  # pixels on the longer side of a selected sample


def to_image(pixels: np.ndarray, size: int = LARGE_SIZE) -> Image.Image:
    """A uint8 (C, H, W) image, upscaled with nearest-neighbour to ``size`` pixels."""
    channels = pixels.shape[0]
    array = pixels[0] if channels == 1 else np.transpose(pixels[:3], (1, 2, 0))
    image = Image.fromarray(np.ascontiguousarray(array))
    scale = max(1, size // max(image.size))
    return image.resize(
        (image.size[0] * scale, image.size[1] * scale), Image.Resampling.NEAREST
    )


def data_url(image: Image.Image) -> str:
    """The image as a PNG data URL (for table cells and HTML)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def thumbnails(ctx: Context, index: np.ndarray) -> list[str]:
    """Data URLs of small upscaled images of the given samples (images only)."""
    return [data_url(to_image(ctx.data.x[i], THUMBNAIL_SIZE)) for i in index]


def nearest_members(ctx: Context, sample: int, *, k: int = 6) -> pd.DataFrame:
    """The k members nearest to one sample, in the space importance is computed in.

    These are the neighbours KNN-Shapley weighs: a sample is valuable when it is among
    the nearest neighbours of many reference samples of its own class.

    Returns:
        DataFrame with ``index``, ``label`` and ``distance`` (Euclidean), nearest first;
        the sample itself is left out.
    """
    members = ctx.split.members[ctx.split.members != sample]
    query = representation(ctx, np.array([sample]))
    # Distances in chunks keep memory bounded on large member sets.
    distances = np.concatenate(
        [
            np.linalg.norm(representation(ctx, chunk) - query, axis=1)
            for chunk in np.array_split(members, max(1, len(members) // 8192))
        ]
    )
    order = np.argsort(distances, kind="stable")[:k]
    return pd.DataFrame(
        {
            "index": members[order],
            "label": ctx.data.y[members[order]],
            "distance": distances[order],
        }
    )
