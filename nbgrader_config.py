"""nbgrader configuration: solutions/ is the source, notebooks/ the student release.

Every nbgrader command run in this folder reads it, plain nbgrader and ``python -m helpers.instructor`` alike, so
what must hold for every grading path is set here: feedback without hidden tests, a kernel that dies costing the
cells from the crash on rather than the whole notebook, and test cells scored from what ran.
"""

import os
import sys

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "transfer-learning-keras"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The gradebook stays out of git (see .gitignore).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# The course's own code (the cell timeout, preprocessors) lives in helpers/instructor/ (the `nbgrader` command
# does not put this folder on sys.path).
sys.path.insert(0, c.CourseDirectory.root)
from helpers.instructor.limits import CELL_TIMEOUT_S

# TensorFlow cells (loading a base, a few epochs) take far longer than nbgrader's 30 s default: the course's one
# cell timeout, which nbval and the grader read too.
c.Execute.timeout = CELL_TIMEOUT_S
c.Execute.interrupt_on_timeout = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Student notebooks carry no outputs.
c.ClearOutput.enabled = True

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import ClearHiddenTests, Execute, GetGrades, SaveAutoGrades

from helpers.instructor.preprocessors import RecordVerdicts, SaveVerdicts, ShortTracebacks

# Feedback goes to students: nbgrader 0.9's default (GetGrades, CSSHTMLHeaderPreprocessor) shows the hidden
# tests of every test cell, and a failing hidden test's traceback quotes its line. Here the hidden tests are
# removed and the tracebacks of test cells cut to their last line (the assertion's message).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortTracebacks, CSSHTMLHeaderPreprocessor]
# nbgrader's own execution and scores, except that a dying kernel no longer zeroes the cells that passed before it,
# and that a test cell's score is its verdict: passed if the kernel ran it, as released, without an error (nbgrader
# reads the outputs: a warning on stderr fails a correct answer, a displayed value passes a failing test).
_ours = {Execute: RecordVerdicts, SaveAutoGrades: SaveVerdicts}
c.Autograde.autograde_preprocessors = [_ours.get(p, p)
                                       for p in Autograde.class_traits()["autograde_preprocessors"].default()]
