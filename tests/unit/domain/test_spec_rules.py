"""The rules azure-ai-ml leaves to the service, enforced by ``parse_spec`` (docs/spec.md, "Rules")."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.documents import load_yaml
from shared.domain.errors import InvalidSpec
from shared.domain.resources import TAG_INDEX, TAG_REGION, TAG_REGISTRY
from shared.domain.spec import parse_spec
from shared.domain.spec_fields import (
    MAX_REPLICATION_COUNT,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_TAGS,
    NAME_PATTERN,
)

# The 8 storage account types of azure-ai-ml's StorageAccountType, in ARM's casing (registry-yaml.md 1.2).
STORAGE_SKUS = [
    "Standard_LRS",
    "Standard_GRS",
    "Standard_RAGRS",
    "Standard_ZRS",
    "Standard_GZRS",
    "Standard_RAGZRS",
    "Premium_LRS",
    "Premium_ZRS",
]


def document(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "DemoRegistry1",
        "location": "eastus",
        "replication_locations": [{"location": "eastus"}],
    }
    return {**base, **fields}


def with_storage(**storage_config: Any) -> dict[str, Any]:
    return document(replication_locations=[{"location": "eastus", "storage_config": storage_config}])


def errors(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(doc)
    return {e.path: e.message for e in caught.value.errors}


STORAGE = "replication_locations[0].storage_config"

# --- name -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 32, "DemoRegistry1", "0registry", "my_registry-1", "A-", "9_"],
    ids=[
        "2-chars",
        "32-chars",
        "seed",
        "leading-digit",
        "underscore-and-hyphen",
        "trailing-hyphen",
        "digit-underscore",
    ],
)
def test_valid_registry_names_are_accepted(name):
    assert parse_spec(document(name=name)).spec.name == name


@pytest.mark.parametrize(
    "name",
    ["a", "a" * 33, "_abc", "-abc", "my registry", "reg.v1", "reg!", "régistry", ""],
    ids=[
        "1-char",
        "33-chars",
        "leading-underscore",
        "leading-hyphen",
        "space",
        "dot",
        "bang",
        "non-ascii",
        "empty",
    ],
)
def test_invalid_registry_names_are_rejected_with_the_rule(name):
    message = errors(document(name=name))["name"]

    assert "2-32 characters" in message


def test_name_pattern_does_not_accept_a_trailing_newline():
    assert NAME_PATTERN.match("registry\n") is None


def test_a_name_that_is_not_a_string_is_rejected():
    assert errors(document(name=123)) == {"name": "must be a string"}


def test_registry_names_compare_case_insensitively_through_key():
    upper = parse_spec(document(name="DemoRegistry1")).spec
    lower = parse_spec(document(name="demoregistry1")).spec

    assert upper.key == lower.key == "demoregistry1"
    assert upper.name == "DemoRegistry1"  # the name is kept as written


# --- regions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["eastus", "EastUS", "EASTUS", " eastus "])
def test_region_names_are_case_insensitive_and_normalised_to_lowercase(given):
    spec = parse_spec(document(location=given, replication_locations=[{"location": given}])).spec

    assert spec.location == "eastus"
    assert spec.replication_locations[0].location == "eastus"


@pytest.mark.parametrize(
    ("display", "arm"),
    [("East US 2", "eastus2"), ("West Europe", "westeurope"), ("east us", "eastus"), ("UK South", "uksouth")],
)
def test_display_name_region_is_rejected_with_arm_name_suggestion(display, arm):
    message = errors(document(location=display))["location"]

    assert "display name" in message
    assert f'did you mean "{arm}"?' in message


@pytest.mark.parametrize(("typo", "arm"), [("westeurop", "westeurope"), ("east-us-2", "eastus2")])
def test_misspelled_region_is_rejected_with_a_suggestion(typo, arm):
    message = errors(document(replication_locations=[{"location": "eastus"}, {"location": typo}]))[
        "replication_locations[1].location"
    ]

    assert "unknown Azure region" in message
    assert f'did you mean "{arm}"?' in message


def test_unknown_region_far_from_any_is_rejected_without_a_suggestion():
    message = errors(document(location="mars"))["location"]

    assert "unknown Azure region" in message
    assert "did you mean" not in message


def test_a_region_that_is_not_a_string_is_rejected():
    assert "must be a string" in errors(document(location=5))["location"]


def test_missing_location_is_required():
    doc = document()
    del doc["location"]

    assert errors(doc) == {"location": "required"}


# --- duplicates and the primary region ------------------------------------------------------------


def test_a_region_listed_twice_is_rejected_at_the_second_entry():
    doc = document(replication_locations=[{"location": "eastus"}, {"location": "westus"}, {"location": "eastus"}])

    message = errors(doc)["replication_locations[2].location"]

    assert "listed twice" in message
    assert "replication_locations[0]" in message


def test_regions_that_differ_only_in_case_are_duplicates():
    doc = document(replication_locations=[{"location": "eastus"}, {"location": "EastUS"}])

    assert "replication_locations[1].location" in errors(doc)


def test_duplicates_are_reported_alongside_other_errors():
    doc = document(name="_bad", replication_locations=[{"location": "westus"}, {"location": "WestUS"}])

    assert set(errors(doc)) == {"name", "replication_locations[1].location"}


def test_missing_primary_region_is_added_first_with_the_default_storage_and_a_warning():
    parsed = parse_spec(document(location="eastus", replication_locations=[{"location": "westus"}]))

    assert [r.location for r in parsed.spec.replication_locations] == ["eastus", "westus"]
    primary = parsed.spec.replication_locations[0].storage
    assert (primary.storage_account_type, primary.storage_account_hns, primary.replication_count) == (
        "Standard_LRS",
        False,
        1,
    )
    assert len(parsed.warnings) == 1
    assert '"eastus"' in parsed.warnings[0]
    assert "added" in parsed.warnings[0]


def test_a_primary_listed_in_any_position_gives_no_warning_and_comes_first_in_regions():
    parsed = parse_spec(
        document(location="westus", replication_locations=[{"location": "eastus"}, {"location": "westus"}])
    )

    assert parsed.warnings == []
    assert parsed.spec.regions == ["westus", "eastus"]


# --- storage_account_type ------------------------------------------------------------------------


@pytest.mark.parametrize("sku", STORAGE_SKUS)
@pytest.mark.parametrize("spelling", [str.lower, str.upper, lambda s: s], ids=["lower", "upper", "canonical"])
def test_storage_sku_is_case_insensitive_and_output_in_canonical_casing(sku, spelling):
    out = parse_spec(with_storage(storage_account_type=spelling(sku))).spec.to_document()

    assert out["replication_locations"][0]["storage_config"]["storage_account_type"] == sku


@pytest.mark.parametrize("value", ["Standard_XYZ", "StandardV2_LRS", "LRS", 3, ""])
def test_unknown_storage_sku_is_rejected_listing_the_allowed_ones(value):
    message = errors(with_storage(storage_account_type=value))[f"{STORAGE}.storage_account_type"]

    assert all(sku in message for sku in STORAGE_SKUS)


# --- replication_count ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, MAX_REPLICATION_COUNT])
def test_replication_count_within_bounds_is_accepted(count):
    assert (
        parse_spec(with_storage(replication_count=count)).spec.replication_locations[0].storage.replication_count
        == count
    )


@pytest.mark.parametrize("count", [0, -1, MAX_REPLICATION_COUNT + 1, 250])
def test_replication_count_out_of_bounds_is_rejected_with_the_range(count):
    message = errors(with_storage(replication_count=count))[f"{STORAGE}.replication_count"]

    assert f"between 1 and {MAX_REPLICATION_COUNT}" in message


@pytest.mark.parametrize("count", ["2", 2.0, 2.5, True, None], ids=["string", "float", "fraction", "bool", "null"])
def test_replication_count_that_is_not_an_integer_is_rejected(count):
    assert errors(with_storage(replication_count=count)) == {f"{STORAGE}.replication_count": "must be a whole number"}


def test_the_replication_count_cap_is_ten():
    assert MAX_REPLICATION_COUNT == 10  # docs/spec.md explains the figure


# --- storage_account_hns: a real boolean (differs from marshmallow, which takes "yes", "1", ...) -----


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [("true", True), ("false", False), ("False", False), ("yes", True), ("off", False)],
)
def test_hns_yaml_booleans_are_accepted(yaml_value, expected):
    text = (
        "name: ab\nlocation: eastus\nreplication_locations:\n"
        f"- location: eastus\n  storage_config: {{storage_account_hns: {yaml_value}}}\n"
    )

    assert parse_spec(load_yaml(text)).spec.replication_locations[0].storage.storage_account_hns is expected


@pytest.mark.parametrize("value", ["yes", "true", "True", "1", 1, 0, None], ids=repr)
def test_hns_that_is_not_a_real_boolean_is_rejected(value):
    message = errors(with_storage(storage_account_hns=value))[f"{STORAGE}.storage_account_hns"]

    assert "true or false" in message


# --- tags -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [TAG_REGISTRY, TAG_REGION, TAG_INDEX, TAG_REGISTRY.upper(), "Regctl-Region"], ids=str)
def test_reserved_tag_names_are_rejected_in_any_case(name):
    assert "reserved" in errors(document(tags={name: "x"}))["tags"]


def test_tags_up_to_the_limit_are_accepted():
    tags = {f"k{i}": "v" for i in range(MAX_TAGS)}

    assert parse_spec(document(tags=tags)).spec.tags == tags


def test_more_tags_than_the_limit_are_rejected():
    message = errors(document(tags={f"k{i}": "v" for i in range(MAX_TAGS + 1)}))["tags"]

    assert f"at most {MAX_TAGS}" in message


def test_the_tag_limit_leaves_room_for_the_management_tags_within_azures_fifty():
    assert MAX_TAGS + len({TAG_REGISTRY, TAG_REGION, TAG_INDEX}) == 50


def test_tag_names_up_to_the_storage_account_limit_are_accepted():
    assert parse_spec(document(tags={"k" * 128: "v"})).spec.tags == {"k" * 128: "v"}


def test_tag_names_over_the_storage_account_limit_are_rejected():
    assert MAX_TAG_KEY == 128  # storage accounts carry the user's tags; Azure caps their names at 128
    assert f"at most {MAX_TAG_KEY}" in errors(document(tags={"k" * 129: "v"}))["tags"]


def test_tag_values_up_to_the_limit_are_accepted():
    assert parse_spec(document(tags={"k": "v" * MAX_TAG_VALUE})).spec.tags["k"] == "v" * MAX_TAG_VALUE


def test_tag_values_over_the_limit_are_rejected():
    assert f"over {MAX_TAG_VALUE}" in errors(document(tags={"k": "v" * (MAX_TAG_VALUE + 1)}))["tags"]


@pytest.mark.parametrize("char", list("<>%&\\?/"))
def test_tag_names_with_characters_azure_forbids_are_rejected(char):
    assert "invalid" in errors(document(tags={f"cost{char}center": "1"}))["tags"]


def test_tag_names_that_differ_only_in_case_are_rejected():
    assert "differ only in case" in errors(document(tags={"Env": "prod", "env": "dev"}))["tags"]


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}], ids=["list", "mapping"])
def test_tag_values_that_are_not_scalars_are_rejected(value):
    assert "text value" in errors(document(tags={"k": value}))["tags"]


@pytest.mark.parametrize("tags", [["a", "b"], "a=b"], ids=["list", "string"])
def test_tags_that_are_not_a_mapping_are_rejected(tags):
    assert "mapping" in errors(document(tags=tags))["tags"]


def test_an_empty_tag_name_is_rejected():
    assert "non-empty" in errors(document(tags={"": "v"}))["tags"]


# --- description ----------------------------------------------------------------------------------


def test_description_up_to_1024_characters_is_accepted():
    assert parse_spec(document(description="d" * 1024)).spec.description == "d" * 1024


def test_description_over_1024_characters_is_rejected():
    assert "description" in errors(document(description="d" * 1025))
