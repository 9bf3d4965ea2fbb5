"""nbgrader configuration: solutions/ is the source, notebooks/ the student release."""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "transfer-learning-keras"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The gradebook stays out of git (see .gitignore).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# TensorFlow cells (loading a base, a few epochs) take far longer than nbgrader's 30 s default.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Student notebooks carry no outputs.
c.ClearOutput.enabled = True
