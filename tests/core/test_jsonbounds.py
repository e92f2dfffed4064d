"""JSON bounds: depth is measured on the text without parsing it, and on a parsed value without recursion."""

import pytest

from governance.core.jsonbounds import (
    TOO_DEEP,
    JSONBoundsError,
    json_loads_bounded,
    json_text_check,
    json_value_check,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_twenty_levels_pass_and_twenty_one_do_not():
    assert json_loads_bounded(nested(20)) == eval(nested(20))
    with pytest.raises(JSONBoundsError) as err:
        json_text_check(nested(21))
    assert err.value.message == TOO_DEEP.format(limit=20)


def test_a_text_100000_deep_is_refused_without_a_recursion_error():
    with pytest.raises(JSONBoundsError, match="Nested more than 20 levels"):
        json_loads_bounded(nested(100_000))


def test_brackets_inside_strings_do_not_count():
    assert json_loads_bounded('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\\\"{{{{{{{{{{{{{{{{{{{{{{{{{"}') == {
        "a": "[" * 31 + '\\"' + "{" * 25}


def test_the_top_level_key_of_a_deep_value_is_named():
    with pytest.raises(JSONBoundsError) as err:
        json_text_check('{"kind": "x", "params": ' + nested(30) + "}")
    assert err.value.key == "params"


def test_a_parsed_value_is_walked_without_recursion():
    value = []
    for _ in range(50_000):
        value = [value]
    with pytest.raises(JSONBoundsError) as err:
        json_value_check({"spec": value})
    assert err.value.key == "spec"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"a": [1, float("-inf")]}])
def test_nan_and_infinity_are_refused(value):
    with pytest.raises(JSONBoundsError, match="NaN and Infinity"):
        json_value_check(value)


def test_size_bounds():
    with pytest.raises(JSONBoundsError, match="characters of JSON; the limit is 10"):
        json_text_check("[" + "1," * 10 + "1]", max_chars=10)
    with pytest.raises(JSONBoundsError, match="More than 5 values"):
        json_value_check(list(range(10)), max_values=5)
