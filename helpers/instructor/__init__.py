"""The instructor's side of the course: autograding a folder of submissions with nbgrader.

    python -m helpers.instructor SUBMISSIONS_DIR [--assignment ID] [--timeout S] [--out DIR] [--jobs N]
                                 [--shard I/N] [--no-sandbox]
    python -m helpers.instructor merge PART_DIR... --out DIR

Modules, by concern (students never need them; importing this package imports none of them):

- :mod:`~helpers.instructor.limits`: the course's one cell timeout;
- :mod:`~helpers.instructor.marks`: the one reader of nbgrader's cell marks (grade id, points, test, answer,
  locked), with nbgrader's semantics and without importing it;
- :mod:`~helpers.instructor.intake`: who sent which file, for which assignment;
- :mod:`~helpers.instructor.repair`: what nbgrader 0.9 would fail on (copied or edited grading cells, deleted
  cells, Colab's format), put right before grading;
- :mod:`~helpers.instructor.course`: the throwaway course copies and the nbgrader commands run in them;
- :mod:`~helpers.instructor.sandbox`: each kernel in a bubblewrap sandbox;
- :mod:`~helpers.instructor.batch`: nbgrader's autograde and feedback in a few long-lived workers, in parallel;
- :mod:`~helpers.instructor.preprocessors`: nbgrader preprocessors set by ``nbgrader_config.py`` (feedback
  without test code, a dying kernel that costs only the cells from the crash on, test cells scored from the
  kernel's replies); :mod:`~helpers.instructor.guard`: the check they run in the kernel before each test cell;
- :mod:`~helpers.instructor.report`: rows, ``grades.csv``, ``scores.json`` and failures in words;
- :mod:`~helpers.instructor.grader`: the whole run; :mod:`~helpers.instructor.shards`: a class cut in parts,
  and the parts merged; :mod:`~helpers.instructor.cli`: the command line;
- for the maintainers (tests and benchmarks): :mod:`~helpers.instructor.runner`, the one notebook runner (a fresh
  kernel of this Python, the one cell timeout), and :mod:`~helpers.instructor.standin`, stand-in weights and data
  for running full mode offline, in a ``KERAS_HOME`` of their own.
"""

__all__ = ["batch", "cli", "course", "grader", "guard", "intake", "limits", "marks", "preprocessors", "repair",
           "report", "runner", "sandbox", "shards", "standin"]
