"""Reversible, vectorised, torch-free column encoders.

Each column transformer turns one column into two compact parts:

* ``floats``: float32 values that the generator emits through ``tanh`` (for numeric columns,
  the position inside the chosen mixture mode);
* ``codes``: int64 indices of one-hot spans that the generator emits through a softmax (the
  mixture mode of a numeric column, or the level of a categorical one).

The expanded one-hot matrix is never built for the whole table: the training loop expands codes
per batch, so memory grows with batch size times levels, not rows times levels.
"""

from .base import Span
from .table import TableTransformer

__all__ = ["Span", "TableTransformer"]
