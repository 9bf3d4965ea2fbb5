"""helpers.prefix: training layers[k:] on the cached outputs of a frozen prefix gives the weights that training the
partly frozen model end to end gives, on the same batches; and the comparison is sharp enough to fail when the
prefix is not a fixed function (a trainable BatchNorm in it) or when the batches differ."""

import keras
import numpy as np
import pytest

import helpers
from helpers import data, freezing, models, prefix

SIZE, BATCH, EPOCHS, RATE = 64, 8, 2, 1e-3


@pytest.fixture(scope="module")
def setup(small_assets):
    """The small base (ImageNet weights, 64 px) frozen up to its third-last block boundary, a head, 24 photos."""
    folder = data.list_images(small_assets.flowers_dir, max_per_class=5)
    keep = np.arange(0, len(folder), max(1, len(folder) // 24))[:24]
    images, labels = data.take_images(data.make_dataset(np.asarray(folder.paths)[keep], folder.labels[keep],
                                                        SIZE, batch_size=24), 24)
    helpers.set_seeds(0)
    base = models.load_base(SIZE)
    k = freezing.block_boundaries(base)[-3]
    freezing.unfreeze_from(base, k)  # layers[:k] and every BatchNorm frozen
    head = [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5, activation="softmax")]
    preprocess = [keras.layers.Rescaling(1 / 127.5, offset=-1)]  # MobileNet's preprocess_input
    whole = prefix.classifier(base, head, preprocess)
    rest = prefix.rest_of(base, k, head)
    start = [w.copy() for w in whole.get_weights()]
    return {"base": base, "k": k, "whole": whole, "rest": rest, "preprocess": preprocess, "start": start,
            "images": images, "labels": labels}


def trained(model, x, y, order, weights_of, start):
    """Reset ``weights_of`` to ``start``, fit ``model`` once over the rows ``order``, return the weights after."""
    weights_of.set_weights(start)
    helpers.set_seeds(1)
    model.compile(optimizer=keras.optimizers.Adam(RATE), loss="sparse_categorical_crossentropy")
    model.fit(x[order], y[order], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return [w.copy() for w in weights_of.get_weights()]


def gap(one, other) -> float:
    return max(float(np.max(np.abs(a - b))) for a, b in zip(one, other, strict=True))


@pytest.fixture(scope="module")
def runs(setup):
    s = setup
    order = prefix.epoch_order(len(s["labels"]), EPOCHS, seed=3)
    cached = prefix.outputs(prefix.prefix_of(s["base"], s["k"], s["preprocess"]), s["images"], batch_size=10)
    end_to_end = trained(s["whole"], s["images"], s["labels"], order, s["whole"], s["start"])
    on_cache = trained(s["rest"], cached, s["labels"], order, s["whole"], s["start"])
    return {"order": order, "cached": cached, "end_to_end": end_to_end, "on_cache": on_cache,
            "moved": gap(end_to_end, s["start"])}


def test_the_rest_shares_the_whole_models_layers(setup):
    whole_ids = {id(w) for w in setup["whole"].weights}
    assert setup["rest"].trainable_weights and all(id(w) in whole_ids for w in setup["rest"].weights)
    assert {id(w) for w in setup["rest"].trainable_weights} == {id(w) for w in setup["whole"].trainable_weights}


def test_training_the_rest_on_cached_outputs_gives_the_end_to_end_weights(runs):
    assert runs["moved"] > 1e-3, "training moved nothing: the comparison would prove nothing"
    assert gap(runs["end_to_end"], runs["on_cache"]) < 1e-3 * runs["moved"]


def test_other_batches_give_other_weights(setup, runs):
    s = setup
    other = prefix.epoch_order(len(s["labels"]), EPOCHS, seed=4)
    shuffled = trained(s["rest"], runs["cached"], s["labels"], other, s["whole"], s["start"])
    assert gap(shuffled, runs["end_to_end"]) > 0.05 * runs["moved"]


def test_a_trainable_batchnorm_in_the_prefix_is_refused_and_changes_the_result(setup, runs):
    s = setup
    norms = [layer for layer in s["base"].layers[:s["k"]] if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.trainable = True
    try:
        with pytest.raises(ValueError, match="BatchNormalization"):
            prefix.prefix_of(s["base"], s["k"], s["preprocess"])
        start = [w.copy() for w in s["whole"].get_weights()]  # trainable BatchNorm: same weights, more trainable
        leaky = trained(s["whole"], s["images"], s["labels"], runs["order"], s["whole"], s["start"])
        s["whole"].set_weights(start)
    finally:
        for layer in norms:
            layer.trainable = False
    assert gap(leaky, runs["on_cache"]) > 0.05 * runs["moved"]


def test_frozen_problems_names_augmentation_and_trainable_layers(setup):
    s = setup
    assert prefix.frozen_problems(s["base"], s["k"], s["preprocess"]) == []
    assert "random in training" in prefix.frozen_problems(s["base"], s["k"], [keras.layers.RandomFlip()])[0]
    late = freezing.block_boundaries(s["base"])[-2]  # layers[k:late] are trainable: not a fixed prefix
    problems = prefix.frozen_problems(s["base"], late)
    assert problems and all("trainable weights" in p for p in problems)
    with pytest.raises(ValueError, match="not a fixed function"):
        prefix.prefix_of(s["base"], late)


def test_fresh_start_repeats_a_new_compiles_run_without_a_new_trace(setup, runs):
    """Training the compiled rest again, its optimizer put back by fresh_start, gives the weights a new compile
    gives on the same batches; its train function is the same object (no second trace); without the restart
    the optimizer carries on (its moments and step count) and the weights differ."""
    s = setup
    rest, order = s["rest"], runs["order"]
    rest.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    rest.optimizer.build(rest.trainable_variables)
    restart = prefix.fresh_start(rest.optimizer)
    results = []
    for rate in (RATE / 10, RATE):  # a first run at another rate, so the second starts from a used optimizer
        s["whole"].set_weights(s["start"])
        restart()
        rest.optimizer.learning_rate.assign(rate)
        helpers.set_seeds(1)
        rest.fit(runs["cached"][order], s["labels"][order], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        results.append(([w.copy() for w in s["whole"].get_weights()], rest.train_function))
    (_, first_function), (again, second_function) = results
    assert second_function is first_function, "fit traced its step again: the compile was not reused"
    assert gap(again, runs["on_cache"]) < 1e-3 * runs["moved"]
    s["whole"].set_weights(s["start"])  # the same run without putting the optimizer back
    helpers.set_seeds(1)
    rest.fit(runs["cached"][order], s["labels"][order], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert gap([w.copy() for w in s["whole"].get_weights()], runs["on_cache"]) > 0.05 * runs["moved"]


def test_fresh_start_refuses_an_optimizer_without_its_state():
    with pytest.raises(ValueError, match="build"):
        prefix.fresh_start(keras.optimizers.Adam())
