"""Loading untrusted YAML and JSON (shared/domain/documents.py): every refusal is an ``InvalidSpec``."""

from __future__ import annotations

import pytest

from shared.domain import documents
from shared.domain.documents import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_NODES,
    load_json,
    load_yaml,
    shorten,
)
from shared.domain.errors import InvalidSpec

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refusal(loader, text) -> InvalidSpec:
    with pytest.raises(InvalidSpec) as caught:
        loader(text)
    return caught.value


def aliases(count: int) -> str:
    return "x: &x 1\ny: [" + ", ".join(["*x"] * count) + "]\n"


def nested_sequences(levels: int) -> str:
    """A mapping whose value nests ``levels`` sequences: the deepest node is at depth ``levels + 1``."""
    return "a: " + "[" * levels + "]" * levels + "\n"


def sequence_of(count: int) -> str:
    """A document of ``count + 3`` nodes: the mapping, its key, the sequence and ``count`` scalars."""
    return "a: [" + ", ".join(["1"] * count) + "]\n"


# --- alias bombs, depth, node count ------------------------------------------------------------------


def test_billion_laughs_is_refused_as_an_alias_bomb():
    error = refusal(load_yaml, BILLION_LAUGHS)

    assert error.code == "InvalidYaml"
    assert "refused" in error.message
    assert "alias" in error.message


def test_billion_laughs_is_refused_before_anything_is_constructed(monkeypatch):
    def expand(*args, **kwargs):
        raise AssertionError("the alias bomb reached construction")

    monkeypatch.setattr(documents._GuardedLoader, "construct_document", expand)

    error = refusal(load_yaml, BILLION_LAUGHS)

    assert "alias" in error.message


def test_aliases_up_to_the_cap_are_accepted():
    assert load_yaml(aliases(MAX_ALIASES))["y"] == [1] * MAX_ALIASES


def test_one_alias_over_the_cap_is_refused():
    assert "alias" in refusal(load_yaml, aliases(MAX_ALIASES + 1)).message


def test_nesting_at_the_depth_cap_is_accepted():
    assert "a" in load_yaml(nested_sequences(MAX_DEPTH - 1))


def test_nesting_past_the_depth_cap_is_refused():
    assert "nests deeper" in refusal(load_yaml, nested_sequences(MAX_DEPTH)).message


def test_deeply_nested_mappings_are_refused():
    text = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 4)) + "  " * (MAX_DEPTH + 4) + "v\n"

    assert "nests deeper" in refusal(load_yaml, text).message


def test_documents_at_the_node_cap_are_accepted():
    assert len(load_yaml(sequence_of(MAX_NODES - 3))["a"]) == MAX_NODES - 3


def test_documents_over_the_node_cap_are_refused():
    assert "nodes" in refusal(load_yaml, sequence_of(MAX_NODES - 2)).message


def test_a_self_referencing_alias_loads_without_expanding():
    data = load_yaml("a: &a [*a]\n")

    assert data["a"][0] is data["a"]


# --- size -----------------------------------------------------------------------------------------


def test_a_document_at_the_size_cap_is_accepted():
    text = "a: " + "x" * (MAX_DOCUMENT_BYTES - len("a: "))

    assert len(load_yaml(text)["a"]) == MAX_DOCUMENT_BYTES - 3


@pytest.mark.parametrize("loader", [load_yaml, load_json], ids=["yaml", "json"])
def test_a_document_over_the_size_cap_is_refused_before_parsing(loader):
    error = refusal(loader, b"{" + b" " * MAX_DOCUMENT_BYTES + b"}")

    assert error.code == "DocumentTooLarge"
    assert str(MAX_DOCUMENT_BYTES) in error.message


def test_the_size_cap_counts_utf8_bytes_not_characters():
    text = "a: " + "é" * (MAX_DOCUMENT_BYTES // 2)  # fewer characters than the cap, more bytes

    assert refusal(load_yaml, text).code == "DocumentTooLarge"


# --- duplicate keys and merge keys ------------------------------------------------------------------


def test_duplicate_top_level_keys_are_refused_with_line_and_column():
    error = refusal(load_yaml, "name: a\nlocation: eastus\nname: b\n")

    assert "duplicate key 'name'" in error.message
    assert "line 3, column 1" in error.message


def test_duplicate_keys_in_nested_mappings_are_refused():
    text = (
        "replication_locations:\n"
        "  - location: eastus\n"
        "    storage_config:\n"
        "      storage_account_hns: true\n"
        "      storage_account_hns: false\n"
    )

    error = refusal(load_yaml, text)

    assert "duplicate key 'storage_account_hns'" in error.message
    assert "line 5, column 7" in error.message


def test_a_huge_duplicate_key_is_shortened_in_the_message():
    key = "k" * 10_000

    error = refusal(load_yaml, f"{key}: 1\n{key}: 2\n")

    assert len(error.message) < 200


def test_merge_keys_are_accepted_and_explicit_keys_win():
    text = (
        "defaults: &defaults {storage_account_type: Standard_GRS, storage_account_hns: false}\n"
        "storage_config:\n"
        "  <<: *defaults\n"
        "  storage_account_hns: true\n"
    )

    assert load_yaml(text)["storage_config"] == {
        "storage_account_type": "Standard_GRS",
        "storage_account_hns": True,
    }


# --- not a mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("- name: a\n- name: b\n", "a list"),
        ("just a string\n", "a str"),
        ("42\n", "a int"),
        ("", "an empty document"),
        ("# only a comment\n", "an empty document"),
        ("~\n", "an empty document"),
    ],
    ids=["list", "string", "number", "empty", "comment-only", "null"],
)
def test_a_yaml_document_that_is_not_a_mapping_is_refused(text, kind):
    error = refusal(load_yaml, text)

    assert error.code == "InvalidDocument"
    assert "must be a mapping" in error.message
    assert kind in error.message


@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "null", "3"], ids=["list", "string", "null", "number"])
def test_a_json_document_that_is_not_a_mapping_is_refused(text):
    assert refusal(load_json, text).code == "InvalidDocument"


def test_non_string_top_level_keys_are_refused_with_the_key_as_path():
    error = refusal(load_yaml, "1: one\nname: a\n")

    assert error.code == "InvalidDocument"
    assert [e.path for e in error.errors] == ["1"]


# --- syntax, encoding, unbuildable values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("name: [a\nlocation: b\n", 2, 9),  # the flow sequence is never closed
        ("name: a\n  bad: indent\n", 2, 6),  # a mapping inside a plain scalar
        ("name: a\nlocation:\n\t- eastus\n", 3, 1),  # a tab cannot start a token
        ('name: "unterminated\n', 2, 1),
    ],
    ids=["unclosed-flow", "bad-indent", "tab", "unterminated-quote"],
)
def test_yaml_syntax_errors_give_line_and_column(text, line, column):
    error = refusal(load_yaml, text)

    assert error.code == "InvalidYaml"
    assert f"at line {line}, column {column}" in error.message


def test_a_second_yaml_document_in_the_stream_is_refused():
    assert refusal(load_yaml, "a: 1\n---\nb: 2\n").code == "InvalidYaml"


def test_python_object_tags_are_refused_by_the_safe_loader():
    error = refusal(load_yaml, "a: !!python/object/apply:os.system ['true']\n")

    assert error.code == "InvalidYaml"
    assert "line 1, column 4" in error.message


@pytest.mark.parametrize("loader", [load_yaml, load_json], ids=["yaml", "json"])
def test_bytes_that_are_not_utf8_are_refused(loader):
    error = refusal(loader, b'{"name": "\xff\xfe"}')

    assert error.code == "InvalidDocument"
    assert "UTF-8" in error.message


def test_utf8_with_a_byte_order_mark_is_accepted():
    assert load_yaml(b"\xef\xbb\xbfname: a\n") == {"name": "a"}


@pytest.mark.parametrize(
    ("text", "column"),
    [("name: a\x07b\n", 8), ("name: a\x00b\n", 8), ("name: ab\ud800\n", 9)],
    ids=["bell", "nul", "lone-surrogate"],
)
def test_unprintable_characters_are_refused_with_line_and_column(text, column):
    error = refusal(load_yaml, "location: eastus\n" + text)

    assert error.code == "InvalidYaml"
    assert f"line 2, column {column}" in error.message


def test_an_integer_too_long_to_convert_is_refused_with_its_position():
    error = refusal(load_yaml, "name: a\nreplication_count: " + "1" * 5000 + "\n")

    assert error.code == "InvalidYaml"
    assert "line 2, column 20" in error.message
    assert len(error.message) < 200


def test_an_impossible_date_is_refused_with_its_position():
    error = refusal(load_yaml, "description: 2001-13-45\n")

    assert error.code == "InvalidYaml"
    assert "line 1, column 14" in error.message


def test_a_syntax_error_in_a_large_document_does_not_echo_it():
    text = "a: " + "x" * 60_000 + "\nb: [\n"

    error = refusal(load_yaml, text)

    assert len(str(error)) < 300


# --- JSON -----------------------------------------------------------------------------------------


def test_json_mappings_load():
    assert load_json('{"name": "a", "tags": {"k": 1}}') == {"name": "a", "tags": {"k": 1}}


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [('{"name": "a",\n "x": }', 2, 7), ('{"name": "a"\n,}', 2, 2), ("{\n\n  'single': 1}", 3, 3)],
    ids=["missing-value", "trailing-comma", "single-quotes"],
)
def test_json_syntax_errors_give_line_and_column(text, line, column):
    error = refusal(load_json, text)

    assert error.code == "InvalidJson"
    assert f"at line {line}, column {column}" in error.message


def test_duplicate_json_keys_are_refused():
    error = refusal(load_json, '{"location": "eastus", "location": "westus"}')

    assert error.code == "InvalidJson"
    assert "duplicate key 'location'" in error.message


def test_json_nested_past_the_interpreter_recursion_limit_is_refused():
    depth = 30_000

    assert refusal(load_json, "[" * depth + "]" * depth).code == "InvalidJson"


def test_a_json_integer_too_long_to_convert_is_refused():
    error = refusal(load_json, '{"replication_count": ' + "9" * 5000 + "}")

    assert error.code == "InvalidJson"
    assert len(error.message) < 200


# --- shorten ------------------------------------------------------------------------------------


def test_shorten_keeps_short_text_and_cuts_long_text():
    assert shorten("eastus") == "eastus"
    assert shorten("x" * 10_000, 40) == "x" * 40 + "..."
