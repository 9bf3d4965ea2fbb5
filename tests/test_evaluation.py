"""Unit tests of helpers.evaluation: the confusion heat map, the worst mistakes, the augmentation preview."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from helpers import evaluation  # noqa: E402

NAMES = ["a", "b", "c"]


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_confusion_matrix_rows_are_true_classes():
    matrix = np.array([[5, 1, 0], [0, 3, 2], [4, 0, 0]])
    evaluation.plot_confusion_matrix(matrix, NAMES, title="toy")
    ax = plt.gcf().axes[0]
    # Cell (row i, column j) is written at x=j, y=i with the count of true i predicted j.
    written = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert written == {(i, j): str(matrix[i, j]) for i in range(3) for j in range(3)}
    assert ax.get_ylabel() == "true class" and ax.get_xlabel() == "predicted class"
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
    assert ax.get_title() == "toy"
    # Colours are row fractions: the last row (4 of 4 predicted as "a") is fully coloured at (2, 0).
    colours = ax.images[0].get_array()
    assert colours[2, 0] == pytest.approx(1.0) and colours[0, 0] == pytest.approx(5 / 6)


def test_confusion_matrix_empty_row_and_wrong_shape():
    evaluation.plot_confusion_matrix(np.array([[2, 0], [0, 0]]), ["x", "y"])
    assert np.all(np.isfinite(plt.gcf().axes[0].images[0].get_array()))
    with pytest.raises(ValueError, match="3x3"):
        evaluation.plot_confusion_matrix(np.zeros((2, 2)), NAMES)


def test_worst_mistakes_most_confident_first():
    y_true = np.array([0, 1, 2, 0, 1])
    probs = np.array([
        [0.9, 0.05, 0.05],  # right
        [0.6, 0.3, 0.1],    # wrong, 0.6
        [0.1, 0.85, 0.05],  # wrong, 0.85
        [0.2, 0.1, 0.7],    # wrong, 0.7
        [0.1, 0.8, 0.1],    # right
    ])
    assert evaluation.worst_mistakes(y_true, probs).tolist() == [2, 3, 1]
    assert evaluation.worst_mistakes(y_true, probs, n=2).tolist() == [2, 3]
    assert evaluation.worst_mistakes(y_true[[0, 4]], probs[[0, 4]]).tolist() == []


def test_show_mistakes_titles_and_paths(tmp_path):
    images = np.zeros((3, 8, 8, 3), dtype="float32")
    y_true = np.array([0, 1, 2])
    probs = np.array([[0.1, 0.7, 0.2], [0.1, 0.8, 0.1], [0.05, 0.05, 0.9]])
    evaluation.show_mistakes(images, y_true, probs, NAMES)
    fig = plt.gcf()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["predicted b 0.70\ntrue a 0.10"]
    # File paths are loaded on demand.
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (20, 20), (200, 10, 10)).save(path)
    plt.close("all")
    evaluation.show_mistakes([str(path)] * 3, y_true, probs, NAMES)
    shown = plt.gcf().axes[0].images[0].get_array()
    assert shown.shape[-1] == 3 and shown[..., 0].mean() > 0.7


def test_show_mistakes_without_mistakes(capsys):
    evaluation.show_mistakes(np.zeros((2, 4, 4, 3)), np.array([0, 1]), np.eye(2), ["x", "y"])
    assert "No mistakes" in capsys.readouterr().out
    assert not plt.get_fignums()


def test_show_augmentations_original_first_then_random_versions():
    calls = []

    def augment(batch, training):
        calls.append(training)
        return batch[:, ::-1] * np.arange(1, len(batch) + 1)[:, None, None, None] / len(batch)

    image = np.random.default_rng(0).uniform(0, 255, (6, 6, 3)).astype("float32")
    evaluation.show_augmentations(augment, image, n=3)
    axes = [ax for ax in plt.gcf().axes if ax.images]
    assert calls == [True]
    assert [ax.get_title() for ax in axes] == ["original", "augmented 1", "augmented 2", "augmented 3"]
    np.testing.assert_allclose(axes[0].images[0].get_array(), image / 255.0, atol=1e-6)
    assert not np.allclose(axes[1].images[0].get_array(), axes[0].images[0].get_array())
