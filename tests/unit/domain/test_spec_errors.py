"""How ``parse_spec`` reports problems: exact paths, every field at once, no huge input echoed back;
and the normalised output round-trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.errors import InvalidSpec
from shared.domain.regions import REGIONS
from shared.domain.spec import parse_spec
from shared.domain.spec_fields import MAX_REPLICATION_COUNT, NAME_PATTERN, StorageSku

HUGE = 10_000


def document(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "DemoRegistry1",
        "location": "eastus",
        "replication_locations": [{"location": "eastus"}],
    }
    return {**base, **fields}


def invalid(doc: dict[str, Any]) -> InvalidSpec:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(doc)
    return caught.value


def test_a_bad_storage_type_is_reported_at_its_exact_path():
    doc = document(
        replication_locations=[
            {"location": "eastus"},
            {"location": "westus", "storage_config": {"storage_account_type": "Standard_XYZ"}},
        ]
    )

    assert [e.path for e in invalid(doc).errors] == ["replication_locations[1].storage_config.storage_account_type"]


def test_every_offending_field_is_listed_in_one_error():
    doc = {
        "name": "_bad",
        "location": "East US",
        "tags": {"regctl-registry": "x"},
        "public_network_access": "sometimes",
        "container_registry": {"acr_account_sku": "Basic"},
        "region_details": [],
        "replication_locations": [
            {"location": "westus", "storage_config": {"storage_account_hns": "yes", "replication_count": 0}},
            {"location": "eastus2", "storage_config": {"storage_account_type": "Standard_XYZ"}},
            {"location": "WestUS"},
            {"storage_config": {}},
        ],
    }

    error = invalid(doc)

    assert {e.path for e in error.errors} == {
        "name",
        "location",
        "tags",
        "public_network_access",
        "container_registry.acr_account_sku",
        "region_details",
        "replication_locations[0].storage_config.storage_account_hns",
        "replication_locations[0].storage_config.replication_count",
        "replication_locations[1].storage_config.storage_account_type",
        "replication_locations[2].location",
        "replication_locations[3].location",
    }
    assert error.message == f"the registry spec is invalid ({len(error.errors)} errors)"
    assert error.code == "InvalidSpec"


def test_a_missing_replication_locations_is_reported_with_the_other_errors():
    error = invalid({"name": "_bad", "location": "eastus"})

    assert {e.path for e in error.errors} == {"name", "replication_locations"}


def test_the_string_form_lists_each_field_on_its_own_line():
    error = invalid(document(name="_bad", location="mars"))

    lines = str(error).splitlines()

    assert lines[0] == "the registry spec is invalid (2 errors)"
    assert sorted(line.split(":")[0].strip(" -") for line in lines[1:]) == ["location", "name"]


@pytest.mark.parametrize(
    "doc",
    [
        document(name="n" * HUGE),
        document(location="l" * HUGE),
        document(
            replication_locations=[{"location": "eastus", "storage_config": {"storage_account_type": "t" * HUGE}}]
        ),
        document(public_network_access="p" * HUGE),
        document(container_registry="c" * HUGE),
        document(container_registry={"acr_account_sku": "s" * HUGE}),
        document(tags={"k" * HUGE: "v"}),
        document(tags={"k": "v" * HUGE}),
        document(**{"u" * HUGE: 1}),
        document(replication_locations=[{"location": "eastus", "x" * HUGE: 1}]),
        document(replication_locations=[{"location": "eastus", "storage_config": ["i" * HUGE]}]),
    ],
    ids=[
        "name",
        "location",
        "storage-type",
        "network-access",
        "acr-string",
        "acr-sku",
        "tag-name",
        "tag-value",
        "unknown-key",
        "unknown-nested-key",
        "storage-id",
    ],
)
def test_huge_input_is_shortened_in_error_messages(doc):
    error = invalid(doc)

    assert len(str(error)) < 500
    assert all(len(e.path) + len(e.message) < 400 for e in error.errors)


def test_messages_speak_to_people_not_pydantic():
    error = invalid(
        document(
            name=1,
            tags="x",
            replication_locations=[{"location": "eastus", "storage_config": {"storage_account_hns": "y", "z": 1}}],
        )
    )

    for e in error.errors:
        assert "pydantic" not in e.message
        assert "Value error" not in e.message
        assert "https://" not in e.message


# --- normalised output ----------------------------------------------------------------------------


sku_spellings = st.sampled_from([s.value for s in StorageSku]).flatmap(
    lambda sku: st.sampled_from([sku, sku.lower(), sku.upper()])
)
storage_configs = st.fixed_dictionaries(
    {},
    optional={
        "storage_account_hns": st.booleans(),
        "storage_account_type": sku_spellings,
        "replication_count": st.integers(1, MAX_REPLICATION_COUNT),
    },
)
region_lists = st.lists(st.sampled_from(sorted(REGIONS)), min_size=1, max_size=5, unique=True)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    regions = draw(region_lists)
    primary = draw(st.sampled_from(regions))
    entries = []
    for region in regions:
        entry: dict[str, Any] = {"location": draw(st.sampled_from([region, region.upper()]))}
        if draw(st.booleans()):
            entry["storage_config"] = draw(storage_configs)
        entries.append(entry)
    return {
        "name": draw(st.from_regex(NAME_PATTERN, fullmatch=True)),
        "location": primary,
        "public_network_access": draw(st.sampled_from(["enabled", "Disabled", "ENABLED"])),
        "tags": draw(st.dictionaries(st.sampled_from(["team", "cost", "env"]), st.text(max_size=8), max_size=3)),
        "replication_locations": entries,
    }


@settings(max_examples=40, deadline=None)
@given(documents())
def test_the_normalised_document_validates_to_the_same_spec(doc):
    spec = parse_spec(doc).spec

    again = parse_spec(spec.to_document())

    assert again.spec == spec
    assert again.warnings == []


@settings(max_examples=40, deadline=None)
@given(documents())
def test_normalised_output_uses_lowercase_regions_and_canonical_skus(doc):
    out = parse_spec(doc).spec.to_document()

    canonical = {s.value for s in StorageSku}
    for entry in out["replication_locations"]:
        assert entry["location"] in REGIONS
        assert entry["storage_config"]["storage_account_type"] in canonical
    assert out["public_network_access"] in {"Enabled", "Disabled"}
    assert out["container_registry"] == {"acr_account_sku": "Premium"}
