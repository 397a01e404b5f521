"""Regressions found by fuzzing the spec parser (tests/fuzz); each failed before its fix."""

from __future__ import annotations

import pytest

from shared.domain.documents import load_yaml
from shared.domain.errors import InvalidSpec


@pytest.mark.parametrize(
    "text",
    [
        "a: !!int",  # IndexError inside PyYAML
        "!!int ",
        "a: !!int _",
        "a: !!float ''",
        "a: !!bool",  # KeyError
        "a: !!timestamp 2020-01-01Tx",  # AttributeError
        "a: !!set [1]",  # TypeError in our duplicate-key check
        "a: !!map [1]",
    ],
)
def test_an_explicitly_tagged_value_of_the_wrong_kind_is_invalid_yaml_with_its_position(text):
    with pytest.raises(InvalidSpec) as caught:
        load_yaml(text)
    assert caught.value.code == "InvalidYaml"
    assert "line 1, column" in caught.value.message
