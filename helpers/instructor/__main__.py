"""``python -m helpers.instructor SUBMISSIONS_DIR ...``: see :mod:`helpers.instructor.cli`."""

from .cli import main

__all__ = ["main"]

raise SystemExit(main())
