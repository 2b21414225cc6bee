"""Entities made by generated functions (``gateway.compiled``): the same values as the
converters called one by one, whatever the values and whatever the property names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.compiled import Inline, entity_function
from gateway.model import edm

# What a Kintone value can be once parsed from JSON: text (often empty), null, a list, an
# object ({code, name} for users), and, from other sources, numbers and booleans.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["", "0", "12", "a"])
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["code", "name", "type"]), children, max_size=3),
    max_leaves=6)


def _outcome(convert: Any, value: Any) -> tuple[str, Any]:
    try:
        return "value", convert(value)
    except Exception as error:  # the same error type, as the plain converter raises it
        return "error", type(error)


@pytest.mark.parametrize("convert", list(edm.INLINE), ids=lambda f: f.__name__)
@given(value=JSON_VALUES)
def test_each_written_out_conversion_is_its_converter(convert, value):
    inline = Inline(edm.INLINE[convert], {"f": convert})
    generated = entity_function(["x"], [inline], lambda record: (record,))
    assert _outcome(lambda v: generated(v)["x"], value) == _outcome(convert, value)


@given(names=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True),
       data=st.data())
def test_any_property_names_are_only_names(names, data):
    """Names with quotes, backslashes, braces or the generated code's own names stay keys."""
    values = data.draw(st.lists(JSON_VALUES, min_size=len(names), max_size=len(names)))
    plain = [repr, lambda value: value, type] * len(names)
    conversions = [repr, Inline("{v}", {}), Inline("{f}({v})", {"f": type})] * len(names)
    generated = entity_function(names, conversions[:len(names)], lambda record: record)
    assert generated(values) == {name: convert(value) for name, convert, value
                                 in zip(names, plain, values, strict=False)}


@pytest.mark.parametrize("name", ["values", "v0", "f0", "record", "convert", "__builtins__",
                                  "'); import os; ('", "{v}", "\\", "名前"])
def test_names_of_the_generated_code_itself(name):
    generated = entity_function([name, "other"], [str, Inline("{f}({v})", {"f": int})],
                                lambda record: record)
    assert generated([5, "7"]) == {name: "5", "other": 7}


def test_no_properties():
    assert entity_function([], [], lambda record: ())({"$id": 1}) == {}
