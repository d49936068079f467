import pytest

from core.jsonparse import InvalidJSON, JSONTooDeep, json_depth, json_loads_limited


def test_ordinary_documents_parse():
    assert json_loads_limited(b'{"a": [1, {"b": "[[[["}]}') == {"a": [1, {"b": "[[[["}]}
    assert json_loads_limited('"text"') == "text"
    assert json_loads_limited("[" * 64 + "]" * 64) is not None


@pytest.mark.parametrize(
    "body", ["[" * 100_000, '{"a":' * 100_000, "[" * 65 + "]" * 65, "[" * 900 + "]" * 900]
)
def test_too_deep_is_refused_not_a_recursion_error(body):
    with pytest.raises(JSONTooDeep):
        json_loads_limited(body.encode())


def test_wide_documents_are_not_too_deep():
    body = "[" + ",".join(['[1, {"x": [2]}]'] * 1000) + "]"
    assert len(json_loads_limited(body)) == 1000


# An integer longer than Python's int/str conversion limit (4300 digits) makes json.loads raise a plain
# ValueError, not a JSONDecodeError.
HUGE_INTEGER = b'{"n": ' + b"1" * 5000 + b"}"


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[NaN]", b"[Infinity]", b"\x80", b"{'a': 1}", b"[1] [2]", HUGE_INTEGER]
)
def test_malformed_is_invalid_json(body):
    with pytest.raises(InvalidJSON):
        json_loads_limited(body)


def test_invalid_json_is_a_value_error():
    assert issubclass(InvalidJSON, ValueError)
    assert issubclass(JSONTooDeep, InvalidJSON)


def test_json_depth():
    assert json_depth(1) == 0
    assert json_depth([]) == 1
    assert json_depth({"a": [1, [2]], "b": {}}) == 3
