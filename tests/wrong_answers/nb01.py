"""Wrong answers of our own for notebook 01: plausible mistakes, each of which must lose points.

``WRONG[assignment][case] = ({grade_id: source of the solution cell}, {test grade ids that must lose points})``. A
case carries one mistake in EACH of the four graded cells (they are graded independently: no graded cell uses
another's answer; tests/inkernel.py runs each mistake alone, from its answer cell to its test cell). Every cell not
named keeps the reference solution.

Mistakes covered, per graded cell:

- ``top-k``: least likely first; k ignored; names paired by rank instead of by index; the probabilities put through
  a softmax again; no validation of k and lengths.
- ``split-model``: the base cut one layer early; a head of fresh layers (new weights, 1000 outputs); a head of
  copies with the same weights (not the model's own layers); the cut hard-coded to the last 3 layers.
- ``count-parameters``: weight tensors counted instead of numbers; every parameter counted as trainable; layers
  of a nested model skipped (only Conv/Dense/BatchNorm layers counted); delegating to ``helpers.freezing`` (by
  its name, or a function of it imported under another name).
- ``read-experiment``: rates swapped; numbers typed in from another run; chance taken as 1/1000 (ImageNet's
  classes); rates as percentages; chance over all photos, the photo itself included; the noise rule
  (``clearly_above``) with the SD for the standard error, with the population SD, with no margin, or delegated to
  ``helpers.ledger`` (by its name, or imported under another name and bound as a default argument, or with the
  hidden tests' write-it-yourself check switched off).
"""

_RATES = '''def same_class_rate(neighbours):
    return float((gallery.labels[neighbours] == gallery.labels[:, None]).mean())


def clearly_above(rates, level):
    rates = np.asarray(rates, dtype="float64")
    return len(rates) > 1 and bool(rates.mean() - level > 2 * rates.std(ddof=1) / np.sqrt(len(rates)))


class_sizes = np.bincount(gallery.labels)
n_photos = len(gallery.labels)
'''

_RIGHT = '''pretrained_rate = same_class_rate(neighbours_of["pretrained"])
random_rate = same_class_rate(neighbours_of["random"])
transfer_gain = pretrained_rate - random_rate
chance_rate = float((class_sizes * (class_sizes - 1)).sum() / (n_photos * (n_photos - 1)))
random_beats_chance = clearly_above(random_rates, chance_rate)'''
_RULE_WITH = '''

def clearly_above(rates, level):  # a slip in the noise rule
    rates = np.asarray(rates, dtype="float64")
    return len(rates) > 1 and bool(rates.mean() - level > {margin})


'''

WRONG = {
    "01-pretrained-models": {
        "least likely first; base cut one layer early; weight tensors counted; rates swapped": (
            {
                "top-k": '''def top_k(probabilities, class_names, k=5):
    if not 1 <= k <= len(probabilities) or len(probabilities) != len(class_names):
        raise ValueError("bad k")
    order = np.argsort(np.asarray(probabilities))[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]''',
                "split-model": '''def split_model(model, layer_name):
    names = [layer.name for layer in model.layers]
    cut = model.layers[names.index(layer_name) - 1]
    base = keras.Model(model.input, cut.output)
    head_input = keras.Input(shape=cut.output.shape[1:])
    x = head_input
    for layer in model.layers[names.index(layer_name) + 1:]:
        x = layer(x)
    return base, keras.Model(head_input, x)''',
                "count-parameters": '''def count_parameters(model):
    trainable, non_trainable = len(model.trainable_weights), len(model.non_trainable_weights)
    return {"layers": len(model.layers), "trainable": trainable, "non_trainable": non_trainable,
            "total": model.count_params()}''',
                "read-experiment": _RATES + '''pretrained_rate = same_class_rate(neighbours_of["random"])
random_rate = same_class_rate(neighbours_of["pretrained"])
transfer_gain = pretrained_rate - random_rate
chance_rate = float((class_sizes * (class_sizes - 1)).sum() / (n_photos * (n_photos - 1)))
random_beats_chance = clearly_above(random_rates, chance_rate)''',
            },
            {"top-k-tests", "split-model-tests", "count-parameters-tests", "read-experiment-tests"},
        ),
        "k ignored; head of fresh layers; every parameter trainable; numbers typed in from another run": (
            {
                "top-k": '''def top_k(probabilities, class_names, k=5):
    probabilities = np.asarray(probabilities, dtype="float64")
    if len(probabilities) != len(class_names) or not 1 <= k <= len(probabilities):
        raise ValueError("bad input")
    order = np.argsort(-probabilities)[:5]
    return [(class_names[i], float(probabilities[i])) for i in order]''',
                "split-model": '''def split_model(model, layer_name):
    cut = model.get_layer(layer_name)
    base = keras.Model(model.input, cut.output)
    head_input = keras.Input(shape=cut.output.shape[1:])
    pooled = keras.layers.GlobalAveragePooling2D()(head_input)
    head = keras.Model(head_input, keras.layers.Dense(1000, activation="softmax")(pooled))
    return base, head''',
                "count-parameters": '''def count_parameters(model):
    total = model.count_params()
    return {"layers": len(model.layers), "trainable": total, "non_trainable": 0, "total": total}''',
                "read-experiment": '''pretrained_rate = 0.85
random_rate = 0.3
transfer_gain = pretrained_rate - random_rate
chance_rate = 0.2
random_beats_chance = True''',
            },
            {"top-k-tests", "split-model-tests", "count-parameters-tests", "read-experiment-tests", "chance-tests"},
        ),
        "names paired by rank; head of copies; nested model skipped; chance as 1/1000": (
            {
                "top-k": '''def top_k(probabilities, class_names, k=5):
    if len(probabilities) != len(class_names) or not 1 <= k <= len(probabilities):
        raise ValueError("bad input")
    ranked = sorted(probabilities, reverse=True)[:k]
    return [(class_names[rank], float(p)) for rank, p in enumerate(ranked)]''',
                "split-model": '''def split_model(model, layer_name):
    cut = model.get_layer(layer_name)
    base = keras.Model(model.input, cut.output)
    names = [layer.name for layer in model.layers]
    x = head_input = keras.Input(shape=cut.output.shape[1:])
    for layer in model.layers[names.index(layer_name) + 1:]:
        copy = layer.__class__.from_config(layer.get_config())
        x = copy(x)
        copy.set_weights(layer.get_weights())
    return base, keras.Model(head_input, x)''',
                "count-parameters": '''def count_parameters(model):
    kinds = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense, keras.layers.BatchNormalization)
    trainable = non_trainable = 0
    for layer in model.layers:
        if isinstance(layer, kinds):
            trainable += sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
            non_trainable += sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights)
    return {"layers": len(model.layers), "trainable": trainable, "non_trainable": non_trainable,
            "total": trainable + non_trainable}''',
                "read-experiment": _RATES + '''pretrained_rate = same_class_rate(neighbours_of["pretrained"])
random_rate = same_class_rate(neighbours_of["random"])
transfer_gain = pretrained_rate - random_rate
chance_rate = 1 / 1000
random_beats_chance = clearly_above(random_rates, chance_rate)''',
            },
            {"top-k-tests", "split-model-tests", "count-parameters-tests", "chance-tests"},
        ),
        "softmax applied again; cut hard-coded; count delegated to helpers.freezing; SD for the standard error": (
            {
                "top-k": '''def top_k(probabilities, class_names, k=5):
    probabilities = np.asarray(probabilities, dtype="float64")
    if len(probabilities) != len(class_names) or not 1 <= k <= len(probabilities):
        raise ValueError("bad input")
    probabilities = np.exp(probabilities) / np.exp(probabilities).sum()
    order = np.argsort(-probabilities)[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]''',
                "split-model": '''def split_model(model, layer_name):
    cut = model.layers[-4]
    base = keras.Model(model.input, cut.output)
    x = head_input = keras.Input(shape=cut.output.shape[1:])
    for layer in model.layers[-3:]:
        x = layer(x)
    return base, keras.Model(head_input, x)''',
                "count-parameters": '''from helpers import freezing


def count_parameters(model):
    split = freezing.parameter_split(model, 0)
    return {"layers": len(model.layers), "trainable": split["trainable"], "non_trainable": split["frozen"],
            "total": split["total"]}''',
                "read-experiment": _RATES + _RULE_WITH.format(margin="2 * rates.std(ddof=1)") + _RIGHT,
            },
            {"top-k-tests", "split-model-tests", "count-parameters-tests", "chance-tests"},
        ),
        "no validation of k; rates as percentages": (
            {
                "top-k": '''def top_k(probabilities, class_names, k=5):
    order = np.argsort(-np.asarray(probabilities), kind="stable")[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]''',
                "read-experiment": _RATES + '''pretrained_rate = 100 * same_class_rate(neighbours_of["pretrained"])
random_rate = 100 * same_class_rate(neighbours_of["random"])
transfer_gain = pretrained_rate - random_rate
chance_rate = float((class_sizes * (class_sizes - 1)).sum() / (n_photos * (n_photos - 1)))
random_beats_chance = clearly_above(random_rates, chance_rate)''',
            },
            {"top-k-tests", "read-experiment-tests"},
        ),
        "chance over all photos (a photo counted as its own neighbour)": (
            {"read-experiment": _RATES + '''pretrained_rate = same_class_rate(neighbours_of["pretrained"])
random_rate = same_class_rate(neighbours_of["random"])
transfer_gain = pretrained_rate - random_rate
chance_rate = float((class_sizes ** 2).sum() / n_photos ** 2)
random_beats_chance = clearly_above(random_rates, chance_rate)'''},
            {"chance-tests"},
        ),
        "noise rule with the population SD (ddof=0)": (
            {"read-experiment": _RATES + _RULE_WITH.format(margin="2 * rates.std() / np.sqrt(len(rates))") + _RIGHT},
            {"chance-tests"},
        ),
        "noise rule: any excess over chance counts": (
            {"read-experiment": _RATES + _RULE_WITH.format(margin="0") + _RIGHT},
            {"chance-tests"},
        ),
        "noise rule delegated to helpers.ledger": (
            {"read-experiment": _RATES + '''

def clearly_above(rates, level):
    return ledger.visible(np.asarray(rates) - level)


pretrained_rate = same_class_rate(neighbours_of["pretrained"])
random_rate = same_class_rate(neighbours_of["random"])
transfer_gain = pretrained_rate - random_rate
chance_rate = float((class_sizes * (class_sizes - 1)).sum() / (n_photos * (n_photos - 1)))
random_beats_chance = clearly_above(random_rates, chance_rate)'''},
            {"chance-tests"},
        ),
        # Under another name, bound as a default argument: it passes every behavioural check (it is the course's
        # rule), and neither patching helpers.ledger nor the notebook's globals reaches the bound default; only
        # the check of what the answer reaches (helpers/instructor/own_work.py) catches it.
        "noise rule delegated to helpers.ledger imported as rule, as a default argument": (
            {"read-experiment": _RATES + '''from helpers.ledger import visible as rule


def clearly_above(rates, level, rule=rule):
    return rule(np.asarray(rates) - level)


''' + _RIGHT},
            {"chance-tests"},
        ),
        # The total from the course's helper under another name (it is model.count_params(), right). The old
        # patch of helpers.freezing's attributes caught it only because parameter_split calls the patched
        # _trainable_by_nature by name; the check of what the answer reaches names it.
        "count's total from helpers.freezing.parameter_split imported as split_of": (
            {"count-parameters": '''from helpers.freezing import parameter_split as split_of


def count_parameters(model):
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = split_of(model, 0)["total"]
    return {"layers": len(model.layers), "trainable": trainable, "non_trainable": total - trainable,
            "total": total}'''},
            {"count-parameters-tests"},
        ),
        # The check switched off by the answer cell itself, before the hidden test runs: the grader's guard
        # (helpers/instructor/guard.py, installed before the first cell) puts the check back for every test cell.
        "noise rule delegated to helpers.ledger; the write-it-yourself check switched off": (
            {"read-experiment": _RATES + '''import helpers.instructor.own_work as _own_work

_own_work.assert_own_work = lambda function, forbidden, instead, *args, **kwargs: function(*args, **kwargs)


def clearly_above(rates, level):
    return ledger.visible(np.asarray(rates) - level)


''' + _RIGHT},
            {"chance-tests"},
        ),
    },
}
