"""Wrong answers of our own for notebook 05 (see nb01.py for the format).

Each case puts one plausible mistake in each graded cell it names; the mistakes of one case are independent (each
cell's tests see only their own function's mistake; tests/inkernel.py runs each alone, from its answer cell to its
test cell), and every test cell named must lose its points.

| graded cell | mistakes |
| --- | --- |
| split | delegates to `helpers.data.stratified_split` (by its module, or by an alias); accepts fractions that |
|       | do not sum to 1; rejects valid ones (`== 1`: 0.7 + 0.2 + 0.1 is 0.9999999999999999); ignores the seed; |
|       | not stratified (one shuffle of all photos); parts drawn independently (they overlap) |
| transfer | new head not named; `body.trainable = True` on a new model (the same-value trap: an earlier |
|          | call's freezing stays); a clone (fresh random body); the body never frozen; new head on the old one |
| evaluate | scikit-learn (imported inside, or an alias imported above); recall nan for a class without examples; |
|          | confusion transposed; precision for recall |
"""

_SPLIT_SEEDED = '''def split_files(labels, fractions, seed):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts = [[] for _ in fractions]
    for c in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == c))
        bounds = np.round(np.cumsum(fractions) * len(index)).astype(int)
        for part, piece in zip(parts, np.split(index, bounds[:-1])):
            part.extend(piece.tolist())
    return [np.sort(np.array(p, dtype="int64")) for p in parts]'''

WRONG = {
    "05-flowers-example": {
        "delegation: split calls data.stratified_split; head not named; evaluate calls scikit-learn": (
            {
                "split": '''def split_files(labels, fractions, seed):
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError("fractions must be positive and sum to 1")
    return data.stratified_split(labels, fractions, seed)''',
                "transfer": '''def transfer_model(source, n_classes, train_body=False):
    body = keras.Model(source.input, source.get_layer("features").output)
    for layer in body.layers:
        layer.trainable = train_body
    outputs = keras.layers.Dense(n_classes, activation="softmax")(body.output)
    return keras.Model(body.input, outputs)''',
                "evaluate": '''def evaluate(y_true, y_pred, n_classes):
    from sklearn.metrics import accuracy_score, confusion_matrix, recall_score

    classes = list(range(n_classes))
    confusion = confusion_matrix(y_true, y_pred, labels=classes)
    recall = recall_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "confusion": confusion, "recall": recall}''',
            },
            {"split-tests", "transfer-tests", "evaluate-tests"},
        ),
        "delegation through aliases: split calls stratified_split as s; evaluate calls confusion_matrix as cm": (
            {
                "split": '''from helpers.data import stratified_split as s


def split_files(labels, fractions, seed):
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError("fractions must be positive and sum to 1")
    return s(labels, fractions, seed)''',
                "evaluate": '''from sklearn.metrics import confusion_matrix as cm


def evaluate(y_true, y_pred, n_classes):
    confusion = cm(y_true, y_pred, labels=list(range(n_classes)))
    per_class = confusion.sum(axis=1)
    recall = np.divide(np.diag(confusion), per_class, out=np.zeros(n_classes), where=per_class > 0)
    return {"accuracy": float(np.trace(confusion) / confusion.sum()), "confusion": confusion, "recall": recall}''',
            },
            {"split-tests", "evaluate-tests"},
        ),
        "split accepts bad fractions; body.trainable on a new model (same-value trap); recall nan": (
            {
                "split": _SPLIT_SEEDED,
                "transfer": '''def transfer_model(source, n_classes, train_body=False):
    body = keras.Model(source.input, source.get_layer("features").output)
    body.trainable = train_body
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="new_head")(body.output)
    return keras.Model(body.input, outputs)''',
                "evaluate": '''def evaluate(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    confusion = np.zeros((n_classes, n_classes), dtype="int64")
    np.add.at(confusion, (y_true, y_pred), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.diag(confusion) / confusion.sum(axis=1)
    return {"accuracy": float(np.mean(y_true == y_pred)), "confusion": confusion, "recall": recall}''',
            },
            {"split-tests", "transfer-tests", "evaluate-tests"},
        ),
        "split ignores the seed; transfer clones the source (random body); confusion transposed": (
            {
                "split": _SPLIT_SEEDED.replace("rng = np.random.default_rng(seed)", "rng = np.random.default_rng()")
                .replace("    labels = np.asarray(labels)\n", '''    labels = np.asarray(labels)
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError("bad fractions")
'''),
                "transfer": '''def transfer_model(source, n_classes, train_body=False):
    clone = keras.models.clone_model(source)
    body = keras.Model(clone.input, clone.get_layer("features").output)
    for layer in body.layers:
        layer.trainable = train_body
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="new_head")(body.output)
    return keras.Model(body.input, outputs)''',
                "evaluate": '''def evaluate(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    confusion = np.zeros((n_classes, n_classes), dtype="int64")
    np.add.at(confusion, (y_pred, y_true), 1)
    per_class = np.bincount(y_true, minlength=n_classes)
    recall = np.divide(np.bincount(y_true[y_true == y_pred], minlength=n_classes), per_class,
                       out=np.zeros(n_classes), where=per_class > 0)
    return {"accuracy": float(np.mean(y_true == y_pred)), "confusion": confusion, "recall": recall}''',
            },
            {"split-tests", "transfer-tests", "evaluate-tests"},
        ),
        "split not stratified; transfer never freezes the body; recall divides by the column (precision)": (
            {
                "split": '''def split_files(labels, fractions, seed):
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError("bad fractions")
    index = np.random.default_rng(seed).permutation(len(labels))
    bounds = np.round(np.cumsum(fractions) * len(index)).astype(int)
    return [np.sort(part) for part in np.split(index, bounds[:-1])]''',
                "transfer": '''def transfer_model(source, n_classes, train_body=False):
    features = source.get_layer("features").output
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="new_head")(features)
    return keras.Model(source.input, outputs)''',
                "evaluate": '''def evaluate(y_true, y_pred, n_classes):
    confusion = np.zeros((n_classes, n_classes), dtype="int64")
    np.add.at(confusion, (np.asarray(y_true), np.asarray(y_pred)), 1)
    predicted = confusion.sum(axis=0)
    recall = np.divide(np.diag(confusion), predicted, out=np.zeros(n_classes), where=predicted > 0)
    return {"accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))), "confusion": confusion,
            "recall": recall}''',
            },
            {"split-tests", "transfer-tests", "evaluate-tests"},
        ),
        "split parts drawn independently (they overlap); transfer stacks the new head on the old one": (
            {
                "split": '''def split_files(labels, fractions, seed):
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError("bad fractions")
    rng = np.random.default_rng(seed)
    n = len(labels)
    return [np.sort(rng.choice(n, size=int(round(f * n)), replace=False)) for f in fractions]''',
                "transfer": '''def transfer_model(source, n_classes, train_body=False):
    for layer in source.layers:
        layer.trainable = train_body
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="new_head")(source.output)
    return keras.Model(source.input, outputs)''',
            },
            {"split-tests", "transfer-tests"},
        ),
        "split checks the fractions with == 1 (rejects 0.7, 0.2, 0.1)": (
            {"split": _SPLIT_SEEDED.replace('''    labels = np.asarray(labels)
''', '''    labels = np.asarray(labels)
    if any(f <= 0 for f in fractions) or sum(fractions) != 1:
        raise ValueError("fractions must be positive and sum to 1")
''', 1)},
            {"split-tests"},
        ),
    }
}
