"""Wrong answers of our own for notebook 05 (see nb01.py for the format)."""

WRONG = {
    "05-flowers-example": {
        "split parts drawn independently: they overlap": (
            {"split": '''def split_files(labels, fractions, seed):
    rng = np.random.default_rng(seed)
    n = len(labels)
    return [np.sort(rng.choice(n, size=int(round(f * n)), replace=False)) for f in fractions]'''},
            {"split-tests"},
        ),
        "split not stratified (one shuffle of all photos)": (
            {"split": '''def split_files(labels, fractions, seed):
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError("bad fractions")
    index = np.random.default_rng(seed).permutation(len(labels))
    bounds = np.round(np.cumsum(fractions) * len(index)).astype(int)
    return [np.sort(part) for part in np.split(index, bounds[:-1])]'''},
            {"split-tests"},
        ),
        "split ignores the seed": (
            {"split": '''def split_files(labels, fractions, seed):
    labels = np.asarray(labels)
    if any(f <= 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError("bad fractions")
    parts = [[] for _ in fractions]
    for c in np.unique(labels):
        index = np.random.permutation(np.flatnonzero(labels == c))
        bounds = np.round(np.cumsum(fractions) * len(index)).astype(int)
        for part, piece in zip(parts, np.split(index, bounds[:-1]), strict=True):
            part.extend(piece.tolist())
    return [np.sort(np.array(p, dtype=int)) for p in parts]'''},
            {"split-tests"},
        ),
        "transfer clones the source: the body is re-initialised": (
            {"transfer": '''def transfer_model(source, n_classes, train_body=False):
    clone = keras.models.clone_model(source)
    body = keras.Model(clone.input, clone.get_layer("features").output)
    for layer in body.layers:
        layer.trainable = train_body
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="new_head")(body.output)
    return keras.Model(body.input, outputs)'''},
            {"transfer-tests"},
        ),
        "transfer stacks the new head on the old one": (
            {"transfer": '''def transfer_model(source, n_classes, train_body=False):
    for layer in source.layers:
        layer.trainable = train_body
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="new_head")(source.output)
    return keras.Model(source.input, outputs)'''},
            {"transfer-tests"},
        ),
        "transfer never freezes the body": (
            {"transfer": '''def transfer_model(source, n_classes, train_body=False):
    features = source.get_layer("features").output
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="new_head")(features)
    return keras.Model(source.input, outputs)'''},
            {"transfer-tests"},
        ),
        "confusion matrix transposed": (
            {"evaluate": '''def evaluate(y_true, y_pred, n_classes):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    confusion = np.zeros((n_classes, n_classes), dtype="int64")
    np.add.at(confusion, (y_pred, y_true), 1)
    per_class = np.bincount(y_true, minlength=n_classes)
    recall = np.divide(np.bincount(y_true[y_true == y_pred], minlength=n_classes), per_class,
                       out=np.zeros(n_classes), where=per_class > 0)
    return {"accuracy": float(np.mean(y_true == y_pred)), "confusion": confusion, "recall": recall}'''},
            {"evaluate-tests"},
        ),
        "recall divides by the column (that is precision)": (
            {"evaluate": '''def evaluate(y_true, y_pred, n_classes):
    confusion = np.zeros((n_classes, n_classes), dtype="int64")
    np.add.at(confusion, (np.asarray(y_true), np.asarray(y_pred)), 1)
    predicted = confusion.sum(axis=0)
    recall = np.divide(np.diag(confusion), predicted, out=np.zeros(n_classes), where=predicted > 0)
    return {"accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))), "confusion": confusion,
            "recall": recall}'''},
            {"evaluate-tests"},
        ),
    }
}
