"""The small demo table shipped with tabgan: Palmer penguins (CC0).

Gorman, Williams & Fraser (2014), via the palmerpenguins package; 344 rows x 8 columns.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_demo", "DEMO_METADATA"]

#: Column kinds of the demo table, in the metadata form :func:`tabgan.schema.infer_schema` takes.
DEMO_METADATA = {
    "columns": {
        "species": "categorical",
        "island": "categorical",
        "bill_length_mm": "continuous",
        "bill_depth_mm": "continuous",
        "flipper_length_mm": "integer",
        "body_mass_g": "integer",
        "sex": "categorical",
        "year": "integer",
    },
    "target": "species",
}


def load_demo() -> pd.DataFrame:
    """Return the Palmer penguins table (344 rows, 8 columns, with missing values)."""
    with resources.files(__package__).joinpath("penguins.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)
