"""Reading the command line's CSV files (torch-free; shared by ``tabgan`` and ``tabgan report``)."""

from __future__ import annotations

from pathlib import Path

from .exceptions import InvalidDataError

__all__ = ["read_csv"]

#: Separators a CSV read with "," may really use; the first one found in the lone header is named.
_OTHER_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes"))


def read_csv(path: str | Path, *, sep: str = ","):
    """Read a CSV file (leading spaces after separators skipped, as in adult.csv).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    InvalidDataError
        The file reads as a single column whose header holds another separator (a CSV
        separated by semicolons read with ","): the message names the ``--sep`` to pass.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"No CSV file at {p}.")
    df = pd.read_csv(p, sep=sep, skipinitialspace=True)
    if df.shape[1] == 1:
        header = str(df.columns[0])
        for other, name in _OTHER_SEPARATORS:
            if other != sep and other in header:
                shown = "\\t" if other == "\t" else other
                raise InvalidDataError(
                    f"{p} was read as one column named {header[:60]!r}, which holds {name}: the file seems to "
                    f"be separated by {name}. Pass --sep '{shown}' (the separator now is {sep!r}).")
    return df
