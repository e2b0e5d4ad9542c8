"""Property tests: the discovery condition and the differences behave as their definitions say."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.differences import differences
from sim.discovery import where_mask
from sim.rules import RUNG_NAMES

rungs = st.lists(st.integers(0, 9), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(rungs, st.sampled_from(RUNG_NAMES), st.sampled_from([">=", ">", "<", "<=", "==", "!="]))
def test_where_with_a_rung_name_is_the_comparison_with_its_number(values, rung, op):
    t = pd.DataFrame({"max_rung": values})
    k = RUNG_NAMES.index(rung)
    expected = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
                "!=": np.not_equal}[op](np.asarray(values), k)
    assert where_mask(f"max_rung {op} {rung}", t).tolist() == expected.tolist()
    both = where_mask(f"max_rung {op} {rung} or not (max_rung {op} {rung})", t)
    assert both.all()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=3, max_size=30), st.integers(-5, 5))
def test_a_constant_shift_is_an_exact_difference(values, shift):
    a = pd.DataFrame({"us_killed": np.asarray(values, float)})
    b = pd.DataFrame({"us_killed": np.asarray(values, float) + shift})
    row = differences({"a": a, "b": b}, n_boot=50).query("scenario == 'b'").iloc[0]
    assert row["difference"] == shift and row["difference_low"] == shift == row["difference_high"]
    assert bool(row["covers_zero"]) == (shift == 0)
