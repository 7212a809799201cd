"""Files in and out (torch-free): the command line's CSV files (shared by ``tabgan`` and
``tabgan report``) and the streaming CSV/Parquet writer of ``Synthesizer.sample_to``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from .exceptions import InvalidDataError

__all__ = ["read_csv", "check_output_path", "write_frames"]

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


def check_output_path(path) -> Path:
    """Check, before any work, a path ``write_frames`` can write to; returns it as a Path.

    Raises
    ------
    TypeError, ValueError, ImportError, IsADirectoryError, FileNotFoundError
        Not a path; a name ending in neither ``.csv`` nor ``.parquet``/``.pq``; Parquet without
        pyarrow; a directory; a folder that does not exist.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path; got {type(path).__name__}.")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValueError(f"Cannot tell the file format from {path.name!r}; use a name ending in "
                         "'.csv' or '.parquet'.")
    if suffix != ".csv":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("Writing Parquet needs pyarrow (pip install pyarrow); or write a '.csv' "
                              "file.") from None
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file name such as synthetic.csv.")
    if not path.parent.exists():
        raise FileNotFoundError(f"Folder {path.parent} does not exist; create it first.")
    return path


def write_frames(path: Path, frames: Callable[[], Iterable]) -> Path:
    """Write the DataFrames ``frames()`` yields, one after the other, to one CSV or Parquet file.

    Only one frame is held at a time. The file is written under a temporary name in the same
    folder and renamed when complete, so an interruption never leaves a truncated file at
    ``path`` (the temporary file is removed). ``path`` is checked by :func:`check_output_path`.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    writer = None
    try:
        if path.suffix.lower() == ".csv":
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                for i, frame in enumerate(frames()):
                    frame.to_csv(fh, index=False, header=i == 0)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            for frame in frames():
                if writer is None:
                    schema = pa.Schema.from_pandas(frame, preserve_index=False)
                    writer = pq.ParquetWriter(tmp, schema)
                writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            writer.close()
            writer = None
        os.replace(tmp, path)
    except BaseException:
        if writer is not None:
            writer.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
