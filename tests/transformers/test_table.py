"""The table transformer's layout: offsets computed once, per span and per column."""

import numpy as np

from tabgan.schema import infer_schema
from tabgan.transformers import TableTransformer


def test_layout_columns_give_each_column_its_floats_and_codes(mixed_frame):
    tt = TableTransformer(infer_schema(mixed_frame)).fit(mixed_frame, np.random.default_rng(0))
    layout = tt.layout_
    assert [name for name, _, _ in layout.columns] == list(mixed_frame.columns)
    floats, codes = tt.transform(mixed_frame, np.random.default_rng(0))
    assert layout.columns[-1][1].stop == floats.shape[1] and layout.columns[-1][2].stop == codes.shape[1]
    for col, (name, fs, cs) in zip(tt.columns_, layout.columns):
        assert fs.stop - fs.start == sum(s.width for s in col.spans if s.activation == "tanh"), name
        assert cs.stop - cs.start == sum(s.activation == "softmax" for s in col.spans), name
    # The expanded vector: every tanh unit and every level, in span order.
    assert layout.width == len(layout.float_positions) + int(layout.code_widths.sum())
