"""Helpers that notebook 01 uses: the receptive-field crops and their grid, the small base's ImageNet top."""

import numpy as np

from helpers import plots


def test_receptive_crop_is_centred_on_the_unit_and_stays_inside():
    image = np.arange(32 * 32).reshape(32, 32)
    # A map of stride 4: unit (3, 5) sits over pixel (14, 22); an 8-pixel crop spans rows 10..17, cols 18..25.
    crop = plots.receptive_crop(image, 3, 5, stride=4, size=8)
    assert crop.shape == (8, 8)
    assert crop[0, 0] == image[10, 18] and crop[-1, -1] == image[17, 25]
    # At a corner the crop is shifted, not shrunk.
    corner = plots.receptive_crop(image, 0, 7, stride=4, size=12)
    assert corner.shape == (12, 12) and corner[0, 0] == image[0, 20]
    # A crop larger than the image is the whole image.
    assert plots.receptive_crop(image, 1, 1, stride=16, size=100).shape == (32, 32)
    rgb = np.zeros((16, 16, 3))
    assert plots.receptive_crop(rgb, 2, 2, stride=4, size=6).shape == (6, 6, 3)


def test_show_top_patches_draws_one_row_per_channel(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    rng = np.random.default_rng(0)
    patches = {"channel 3": [rng.uniform(0, 255, (8, 8, 3)) for _ in range(4)],
               "channel 7": [rng.uniform(0, 255, (8, 8, 3)) for _ in range(2)]}
    plots.show_top_patches(patches, "title")
    (figure,) = shown
    drawn = [ax for ax in figure.axes if ax.images]
    assert len(drawn) == 6
    assert figure.axes[0].get_ylabel() == "channel 3"
    plt.close(figure)
