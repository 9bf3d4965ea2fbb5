"""Small plotting functions, so that notebooks show pictures without matplotlib boilerplate."""

from __future__ import annotations

import numpy as np

__all__ = [
    "image_grid", "as_display", "show_images", "show_feature_maps", "receptive_crop", "show_top_patches",
    "show_neighbours", "bar_chart", "plot_history",
]


def image_grid(n: int, ncols: int, size: float = 2.0):
    """A figure of ``n`` empty picture slots, ``ncols`` a row, ``size`` inches each: ``(fig, axes)``, axes off."""
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def as_display(image) -> np.ndarray:
    """An image as ``imshow`` wants it: float in [0, 1] (from [0, 255] or [0, 1])."""
    image = np.asarray(image, dtype="float32")
    if image.max() > 1.0:
        image = image / 255.0
    return np.clip(image, 0.0, 1.0)


def show_images(images, titles=None, ncols: int = 5, size: float = 2.2):
    """Show images (float in [0, 255] or [0, 1]) in a grid with optional titles."""
    import matplotlib.pyplot as plt

    images = list(images)
    fig, axes = image_grid(len(images), ncols, size)
    for i, (ax, image) in enumerate(zip(axes, images)):
        ax.imshow(as_display(image))
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    plt.show()


def show_feature_maps(maps: dict, n: int = 8):
    """One row per layer: the first ``n`` channels of its feature map for one image (``{name: (h, w, c)}``)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(maps), n, figsize=(1.5 * n, 1.7 * len(maps)), squeeze=False)
    for row, (name, fmap) in zip(axes, maps.items()):
        fmap = np.asarray(fmap)
        for j, ax in enumerate(row):
            ax.axis("off")
            if j < fmap.shape[-1]:
                ax.imshow(fmap[..., j], cmap="viridis")
        row[0].set_title(f"{name}  {fmap.shape[0]}x{fmap.shape[1]}x{fmap.shape[2]}", fontsize=9, loc="left")
    fig.tight_layout()
    plt.show()


def receptive_crop(image, row: int, col: int, stride: float, size: int) -> np.ndarray:
    """The ``size`` x ``size`` crop of ``image`` around the pixels that feature-map position ``(row, col)`` sees.

    A unit of a feature map ``stride`` times smaller than the image sits over the image pixel
    ``((row + 0.5) * stride, (col + 0.5) * stride)``; the crop is centred there and shifted (not shrunk) to stay
    inside the image. ``size`` is the caller's estimate of the unit's receptive field (capped at the image size).
    """
    image = np.asarray(image)
    height, width = image.shape[:2]
    size = int(min(size, height, width))
    top = int(round((row + 0.5) * stride - size / 2))
    left = int(round((col + 0.5) * stride - size / 2))
    top = min(max(top, 0), height - size)
    left = min(max(left, 0), width - size)
    return image[top:top + size, left:left + size]


def show_top_patches(patches: dict, title: str = "", size: float = 1.1):
    """A grid of image patches, one row per ``{row label: [patch, ...]}`` entry (most exciting patch first).

    The patches of a row are shown side by side at the same size (each scaled up by repeating pixels to the
    largest patch of the figure), one picture per row, so that drawing stays fast.
    """
    import matplotlib.pyplot as plt

    rows = {label: [as_display(patch) for patch in row] for label, row in patches.items()}
    side = max(patch.shape[0] for row in rows.values() for patch in row)
    ncols = max(len(row) for row in rows.values())
    gap = max(1, side // 16)
    fig, axes = plt.subplots(len(rows), 1, figsize=(size * ncols + 1.6, size * len(rows) + 0.5), squeeze=False)
    for ax, (label, row) in zip(axes[:, 0], rows.items()):
        strip = np.ones((side, ncols * (side + gap) - gap, 3), dtype="float32")
        for j, patch in enumerate(row):
            scale = max(1, side // patch.shape[0])
            big = np.repeat(np.repeat(patch, scale, axis=0), scale, axis=1)[:side, :side]
            if big.ndim == 2:
                big = np.repeat(big[..., None], 3, axis=2)
            strip[:big.shape[0], j * (side + gap):j * (side + gap) + big.shape[1]] = big[..., :3]
        ax.imshow(strip, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_ylabel(str(label), rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    plt.show()


def show_neighbours(images, query_indices, neighbour_indices, similarities, labels, class_names):
    """For each query photo, its nearest neighbours with their cosine similarity; a green title = same class."""
    import matplotlib.pyplot as plt

    k = neighbour_indices.shape[1]
    fig, axes = plt.subplots(len(query_indices), k + 1, figsize=(1.9 * (k + 1), 2.1 * len(query_indices)),
                             squeeze=False)
    for row, q, neighbours, sims in zip(axes, query_indices, neighbour_indices, similarities):
        row[0].imshow(as_display(images[q]))
        row[0].set_title(f"query: {class_names[labels[q]]}", fontsize=9, fontweight="bold")
        for ax, j, s in zip(row[1:], neighbours, sims):
            ax.imshow(as_display(images[j]))
            same = labels[j] == labels[q]
            ax.set_title(f"{class_names[labels[j]]} {s:.2f}", fontsize=8, color="green" if same else "red")
        for ax in row:
            ax.axis("off")
    fig.tight_layout()
    plt.show()


def bar_chart(values: dict, title: str, xlabel: str, log: bool = False):
    """A horizontal bar chart of ``{label: value}`` with the values written on the bars."""
    import matplotlib.pyplot as plt

    labels, numbers = list(values), list(values.values())
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(labels) + 1))
    bars = ax.barh(labels, numbers, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:,.0f}" if v >= 100 else f"{v:.3g}" for v in numbers], padding=3, fontsize=8)
    if log:
        ax.set_xscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.invert_yaxis()
    fig.tight_layout()
    plt.show()


def plot_history(histories, metric: str = "accuracy", fine_tune_at: int | None = None, title: str = ""):
    """Training curves of one or more ``History`` objects run one after the other.

    ``fine_tune_at`` (an epoch number) draws a vertical line where fine-tuning started.
    """
    import matplotlib.pyplot as plt

    if not isinstance(histories, (list, tuple)):
        histories = [histories]
    logs: dict[str, list] = {}
    for history in histories:
        for key, values in history.history.items():
            logs.setdefault(key, []).extend(values)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    for ax, name in zip(axes, [metric, "loss"]):
        for key in (name, f"val_{name}"):
            if key in logs:
                epochs = np.arange(1, len(logs[key]) + 1)
                ax.plot(epochs, logs[key], marker="o", label=key)
        if fine_tune_at is not None:
            ax.axvline(fine_tune_at + 0.5, color="gray", linestyle="--", label="fine-tuning starts")
        ax.set_xlabel("epoch")
        ax.set_title(f"{title} {name}".strip())
        ax.legend()
    fig.tight_layout()
    plt.show()
