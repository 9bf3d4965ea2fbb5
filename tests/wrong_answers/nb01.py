"""Wrong answers of our own, per assignment: each must lose points in the cells it names.

``WRONG[assignment][case] = ({grade_id: source of the solution cell}, {test grade ids that must lose points})``.
Cells not named keep the reference solution, so each case isolates one mistake.
"""

WRONG = {
    "01-pretrained-models": {
        "top-k off by one": (
            {"top-k": '''def top_k(probabilities, class_names, k=5):
    order = np.argsort(-np.asarray(probabilities))[:k + 1]
    return [(class_names[i], float(probabilities[i])) for i in order]'''},
            {"top-k-tests"},
        ),
        "top-k least likely first": (
            {"top-k": '''def top_k(probabilities, class_names, k=5):
    if not 1 <= k <= len(probabilities) or len(probabilities) != len(class_names):
        raise ValueError("bad k")
    order = np.argsort(np.asarray(probabilities))[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]'''},
            {"top-k-tests"},
        ),
        "top-k no validation": (
            {"top-k": '''def top_k(probabilities, class_names, k=5):
    order = np.argsort(-np.asarray(probabilities), kind="stable")[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]'''},
            {"top-k-tests"},
        ),
        "head with fresh weights and wrong number of outputs": (
            {"split-model": '''def split_model(model, layer_name):
    cut = model.get_layer(layer_name)
    base = keras.Model(model.input, cut.output)
    head_input = keras.Input(shape=cut.output.shape[1:])
    pooled = keras.layers.GlobalAveragePooling2D()(head_input)
    head = keras.Model(head_input, keras.layers.Dense(1000, activation="softmax")(pooled))
    return base, head'''},
            {"split-model-tests"},
        ),
        "split after the wrong layer": (
            {"split-model": '''def split_model(model, layer_name):
    names = [layer.name for layer in model.layers]
    cut = model.layers[names.index(layer_name) - 1]
    base = keras.Model(model.input, cut.output)
    head_input = keras.Input(shape=cut.output.shape[1:])
    x = head_input
    for layer in model.layers[names.index(layer_name) + 1:]:
        x = layer(x)
    return base, keras.Model(head_input, x)'''},
            {"split-model-tests"},
        ),
        "counts weight tensors, not parameters": (
            {"count-parameters": '''def count_parameters(model):
    trainable, non_trainable = len(model.trainable_weights), len(model.non_trainable_weights)
    return {"layers": len(model.layers), "trainable": trainable, "non_trainable": non_trainable,
            "total": model.count_params()}'''},
            {"count-parameters-tests"},
        ),
        "every parameter counted as trainable": (
            {"count-parameters": '''def count_parameters(model):
    total = model.count_params()
    return {"layers": len(model.layers), "trainable": total, "non_trainable": 0, "total": total}'''},
            {"count-parameters-tests"},
        ),
        "wrong concept answer": ({"concept": 'answer = "a"'}, {"concept-tests"}),
    },
}
