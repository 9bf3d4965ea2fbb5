"""Download (or copy from an offline mirror) the course's data and weights.

    python data_scripts/fetch_data.py                 # download, build the small subsets
    python data_scripts/fetch_data.py --mirror DIR    # copy from a mirror (offline)

The work is done by :mod:`helpers.fetch`; see its docstring.
"""

from helpers.fetch import main

if __name__ == "__main__":
    raise SystemExit(main())
