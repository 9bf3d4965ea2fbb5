"""Wrong answers of our own, one module per notebook (``nb01.py``, ``nb02.py``, ...), merged here.

Each module defines ``WRONG = {assignment: {case: ({grade_id: solution-cell source}, {test grade ids that must
lose points})}}``. Cells not named keep the reference solution, so each case isolates one mistake.
"""

import importlib
import pkgutil

WRONG: dict = {}
for _module in pkgutil.iter_modules(__path__):
    WRONG.update(importlib.import_module(f"{__name__}.{_module.name}").WRONG)
