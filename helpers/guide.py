"""Notebook 04's guide: the five strategies of the 2x2 table, and the widget that *your* guide drives.

:data:`STRATEGIES` (their names), each with a label (:data:`LABELS`), a description of what it does
(:data:`DESCRIPTIONS`; not *when*: that is the guide, which notebook 04 has you write as ``recommend``) and the
Keras lines it implies (:data:`CODE`, written with the course's one fine-tuning recipe,
:func:`helpers.freezing.unfreeze_from`): all four read from the one table of strategies,
:data:`helpers.strategies.TABLE`. :func:`widget` is an ipywidgets front end for a guide function you pass it: it
calls your function and shows what its answer means. The measured grid of the same strategies is
:mod:`helpers.measure`.
"""

from __future__ import annotations

from .strategies import TABLE

__all__ = ["CODE", "DESCRIPTIONS", "LABELS", "SIMILARITIES", "STRATEGIES", "render", "widget"]

STRATEGIES = tuple(TABLE)  # their names, in the table's order
LABELS = {name: strategy.label for name, strategy in TABLE.items()}
DESCRIPTIONS = {name: strategy.description for name, strategy in TABLE.items()}  # what each does, not when
CODE = {name: strategy.code for name, strategy in TABLE.items()}
SIMILARITIES = ("similar", "different")


def render(strategy: str) -> str:
    """What a strategy means, as a small HTML block (for the widget)."""
    import html

    return (f"<b>{html.escape(LABELS[strategy])}</b> (<code>{strategy}</code>)<br>"
            f"{html.escape(DESCRIPTIONS[strategy])}<pre>{html.escape(CODE[strategy])}</pre>")


def widget(recommend, images_per_class: int = 20, similarity: str = "similar"):
    """An interactive 2x2 guide driven by ``recommend(images_per_class, similarity)``: the function you wrote.

    The widget only calls your function and shows what its answer means (:func:`render`); an error it raises
    (a ``ValueError`` for a bad input, or ``NotImplementedError`` before you write it) is shown, not raised.
    Returns the widget.
    """
    import html

    import ipywidgets as widgets

    size = widgets.BoundedIntText(value=images_per_class, min=-1_000, max=1_000_000, description="images/class")
    choice = widgets.ToggleButtons(options=list(SIMILARITIES), value=similarity, description="vs ImageNet")
    answer = widgets.HTML()
    name = getattr(recommend, "__name__", "recommend")

    def update(_=None):
        try:
            strategy = recommend(size.value, choice.value)
        except Exception as error:  # noqa: BLE001 - whatever your function raises is shown, not re-raised
            answer.value = (f"your <code>{html.escape(name)}</code> raised {type(error).__name__}: "
                            f"{html.escape(str(error))}")
            return
        if strategy not in STRATEGIES:
            answer.value = (f"your <code>{html.escape(name)}</code> returned {html.escape(repr(strategy))}, "
                            f"not one of {html.escape(', '.join(STRATEGIES))}")
            return
        answer.value = (f"your <code>{html.escape(name)}({size.value}, {choice.value!r})</code> &rarr; "
                        + render(strategy))

    size.observe(update, names="value")
    choice.observe(update, names="value")
    update()
    return widgets.VBox([size, choice, answer])
