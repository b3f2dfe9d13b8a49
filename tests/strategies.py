"""Hypothesis strategies for shareable keys and values."""

from typing import Any

from hypothesis import strategies as st

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.complex_numbers(allow_nan=False, max_magnitude=1e6),
    st.text(max_size=6),
    st.binary(max_size=6),
)

keys: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=4,
)

values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(keys, inner, max_size=3),
        st.sets(st.integers() | st.text(max_size=3), max_size=3),
    ),
    max_leaves=8,
)

# Keys with equal values of different types, the classic dict traps.
numeric_twins = st.sampled_from([0, 0.0, -0.0, False, 1, 1.0, True, 1 + 0j, 2**61, float(2**61), 2**64, 2.0**64])
