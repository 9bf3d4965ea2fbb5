"""Pictures of a classifier's results: confusion matrix, worst mistakes, augmentation preview.

The numbers (accuracy, confusion matrix, recall) are computed in the notebooks;
these functions only draw them. Images are float arrays in [0, 255] or [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plots import as_display, image_grid

__all__ = [
    "plot_confusion_matrix", "worst_mistakes", "show_mistakes", "show_augmentations",
]


def plot_confusion_matrix(matrix, class_names, title: str = "Confusion matrix"):
    """A heat map of a confusion matrix: rows are the true classes, columns the predicted ones.

    Each cell shows its count; the colour is the fraction of the row (the true class), so a
    dark diagonal means high recall for every class.
    """
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    n = len(class_names)
    if matrix.shape != (n, n):
        raise ValueError(f"a confusion matrix of {n} classes must be {n}x{n}, got {matrix.shape}.")
    rows = matrix.sum(axis=1, keepdims=True)
    fractions = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype="float64"), where=rows > 0)
    fig, ax = plt.subplots(figsize=(1.0 * n + 2.5, 1.0 * n + 1.5))
    image = ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{matrix[i, j]:g}", ha="center", va="center", fontsize=10,
                    color="white" if fractions[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    fig.tight_layout()
    plt.show()


def worst_mistakes(y_true, probabilities, n: int = 8) -> np.ndarray:
    """Indices of the wrongly predicted examples, the most confident mistakes first (at most ``n``)."""
    y_true = np.asarray(y_true)
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:n]


def show_mistakes(images, y_true, probabilities, class_names, n: int = 8, ncols: int = 4):
    """A gallery of the ``n`` most confident mistakes.

    ``images`` holds arrays or image file paths (only the photos shown are loaded). Each title
    gives the predicted class with its probability, then the true class with the probability the
    model gave it.
    """
    import matplotlib.pyplot as plt

    from .data import load_image

    index = worst_mistakes(y_true, probabilities, n)
    if len(index) == 0:
        print("No mistakes to show: every example is classified correctly.")
        return
    probabilities = np.asarray(probabilities)
    fig, axes = image_grid(len(index), ncols, 2.6)
    for ax, i in zip(axes, index, strict=False):
        predicted, true = int(probabilities[i].argmax()), int(y_true[i])
        picture = images[i]
        ax.imshow(as_display(load_image(picture) if isinstance(picture, (str, Path)) else picture))
        ax.set_title(f"predicted {class_names[predicted]} {probabilities[i, predicted]:.2f}\n"
                     f"true {class_names[true]} {probabilities[i, true]:.2f}", fontsize=9, color="red")
    fig.suptitle(f"The {len(index)} most confident mistakes")
    fig.tight_layout()
    plt.show()


def show_augmentations(augment, image, n: int = 7, ncols: int = 4):
    """The photo, then ``n`` random versions of it made by the layer (or model) ``augment`` in training mode."""
    import matplotlib.pyplot as plt

    image = np.asarray(image, dtype="float32")
    batch = np.repeat(image[None], n, axis=0)
    augmented = np.asarray(augment(batch, training=True))
    fig, axes = image_grid(n + 1, ncols, 2.4)
    for k, (ax, picture) in enumerate(zip(axes, [image, *augmented], strict=False)):
        ax.imshow(as_display(picture))
        ax.set_title("original" if k == 0 else f"augmented {k}", fontsize=9)
    fig.tight_layout()
    plt.show()
