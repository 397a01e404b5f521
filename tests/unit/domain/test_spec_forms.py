"""Every form azure-ai-ml 1.35 accepts for a registry (shared/reference/registry-yaml.md section 1.3).

Expected values come from the rules: canonical SKU casing (``Standard_LRS``), lowercase ARM region names,
defaults of the SDK (Premium ACR, Standard_LRS, no HNS, one account per region, ``Enabled`` access).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.domain.documents import load_yaml
from shared.domain.errors import InvalidSpec
from shared.domain.spec import OUTPUT_ONLY_KEYS, parse_spec

DATA = Path(__file__).parent / "data"
DEFAULT_STORAGE = {
    "storage_account_hns": False,
    "storage_account_type": "Standard_LRS",
    "replication_count": 1,
}
STORAGE_ID = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1"
ACR_ID = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr1"


def document(**fields: Any) -> dict[str, Any]:
    """A minimal valid registry document with ``fields`` replaced or added."""
    base: dict[str, Any] = {
        "name": "DemoRegistry1",
        "location": "eastus",
        "replication_locations": [{"location": "eastus"}],
    }
    return {**base, **fields}


def normalised(doc: dict[str, Any]) -> dict[str, Any]:
    return parse_spec(doc).spec.to_document()


def errors(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(doc)
    return {e.path: e.message for e in caught.value.errors}


# --- the seed document's examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "name", "description"),
    [
        (
            "demo-registry-1.yml",
            "DemoRegistry1",
            "Basic registry with one primary region and to additional regions",
        ),
        (
            "demo-registry-2.yml",
            "DemoRegistry2",
            "Registry with additional configuration for storage accounts",
        ),
    ],
)
def test_seed_examples_validate_exactly(file, name, description):
    parsed = parse_spec(load_yaml((DATA / file).read_bytes()))
    out = parsed.spec.to_document()

    assert parsed.warnings == []
    assert out["name"] == name
    assert out["description"] == description
    assert out["tags"] == {"foo": "bar"}
    assert out["location"] == "eastus"
    assert out["public_network_access"] == "Enabled"
    assert out["container_registry"] == {"acr_account_sku": "Premium"}
    assert out["replication_locations"] == [
        {"location": "eastus", "storage_config": DEFAULT_STORAGE},
        {"location": "eastus2", "storage_config": DEFAULT_STORAGE},
        {"location": "westus", "storage_config": DEFAULT_STORAGE},
    ]
    assert set(out) == {
        "name",
        "description",
        "tags",
        "location",
        "public_network_access",
        "container_registry",
        "replication_locations",
    }
    assert parsed.spec.regions == ["eastus", "eastus2", "westus"]


def test_the_azureml_examples_registry_yml_with_four_regions_validates():
    text = (
        "name: DemoRegistry1\n"
        "description: Basic registry with one primary region and to additional regions\n"
        "tags:\n  foo: bar\n"
        "location: eastus\n"
        "replication_locations:\n"
        "  - location: eastus\n  - location: eastus2\n  - location: westus\n  - location: westus2\n"
    )

    assert parse_spec(load_yaml(text)).spec.regions == ["eastus", "eastus2", "westus", "westus2"]


def test_the_sdk_minimal_example_with_pascal_case_regions_validates_and_is_lowercased():
    # registry_valid_min.yaml, as its wire payload in registry-yaml.md section 1.5 shows it
    doc = {
        "name": "registry_name2",
        "location": "WestCentralUS",
        "tags": {"one": "two", "three": "five"},
        "replication_locations": [{"location": "WestCentralUS"}],
    }

    out = normalised(doc)

    assert out["location"] == "westcentralus"
    assert out["replication_locations"] == [{"location": "westcentralus", "storage_config": DEFAULT_STORAGE}]
    assert out["tags"] == {"one": "two", "three": "five"}


# --- top-level keys -------------------------------------------------------------------------------


def test_id_is_accepted_and_kept():
    registry_id = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/r"

    assert normalised(document(id=registry_id))["id"] == registry_id


def test_description_is_accepted_and_kept():
    assert normalised(document(description="Shared models"))["description"] == "Shared models"


def test_unset_optional_fields_are_left_out_of_the_output():
    out = normalised(document())

    assert not {"id", "description", "tags", "intellectual_property"} & set(out)


@pytest.mark.parametrize(
    ("value", "text"),
    [("bar", "bar"), (1, "1"), (1.5, "1.5"), (True, "true"), (False, "false"), (None, "")],
    ids=["string", "int", "float", "true", "false", "null"],
)
def test_tag_values_that_are_scalars_become_text(value, text):
    assert normalised(document(tags={"foo": value}))["tags"] == {"foo": text}


def test_yaml_scalar_tag_values_become_text():
    doc = load_yaml("name: ab\nlocation: eastus\nreplication_locations: []\ntags: {n: 1, b: yes, e: }\n")

    assert normalised(doc)["tags"] == {"n": "1", "b": "true", "e": ""}


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("enabled", "Enabled"),
        ("ENABLED", "Enabled"),
        ("Enabled", "Enabled"),
        ("disabled", "Disabled"),
        ("DiSaBlEd", "Disabled"),
    ],
)
def test_public_network_access_is_accepted_in_any_case(given, canonical):
    assert normalised(document(public_network_access=given))["public_network_access"] == canonical


def test_public_network_access_defaults_to_enabled():
    assert normalised(document())["public_network_access"] == "Enabled"


def test_public_network_access_outside_enabled_and_disabled_is_rejected():
    assert "Enabled or Disabled" in errors(document(public_network_access="sometimes"))["public_network_access"]


def test_intellectual_property_publisher_is_accepted():
    out = normalised(document(intellectual_property={"publisher": "Contoso"}))

    assert out["intellectual_property"] == {"publisher": "Contoso"}


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("Contoso", "intellectual_property"),
        ({"publisher": "Contoso", "protection_level": "All"}, "intellectual_property.protection_level"),
        ({}, "intellectual_property.publisher"),
    ],
    ids=["plain-string", "protection-level", "no-publisher"],
)
def test_intellectual_property_other_shapes_are_rejected(value, path):
    assert path in errors(document(intellectual_property=value))


# --- container_registry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"acr_account_sku": "premium"},
        {"acr_account_sku": "Premium"},
        {"acr_account_sku": "PREMIUM"},
        {},
        None,
    ],
    ids=["premium", "Premium", "PREMIUM", "empty-mapping", "null"],
)
def test_container_registry_premium_forms_give_a_premium_registry(value):
    out = normalised(document(container_registry=value))

    assert out["container_registry"] == {"acr_account_sku": "Premium"}


def test_container_registry_defaults_to_premium_when_absent():
    assert normalised(document())["container_registry"] == {"acr_account_sku": "Premium"}


def test_container_registry_arm_id_is_rejected_as_bring_your_own():
    message = errors(document(container_registry=ACR_ID))["container_registry"]

    assert "bring-your-own" in message
    assert "not supported" in message


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"acr_account_sku": "Basic"}, "container_registry.acr_account_sku"),
        ({"acr_account_sku": "Standard"}, "container_registry.acr_account_sku"),
        ({"arm_resource_id": ACR_ID}, "container_registry.arm_resource_id"),
        ("not-an-id", "container_registry"),
        (5, "container_registry"),
    ],
    ids=["basic", "standard", "arm-resource-id-key", "junk-string", "number"],
)
def test_container_registry_other_forms_are_rejected(value, path):
    assert path in errors(document(container_registry=value))


# --- replication_locations and storage_config -------------------------------------------------------


@pytest.mark.parametrize(
    "storage_config",
    [
        {"storage_account_hns": True, "storage_account_type": "Standard_GRS", "replication_count": 3},
        {"storage_account_hns": True},
        {"storage_account_type": "standard_ragrs"},
        {"replication_count": 2},
    ],
    ids=["all-keys", "hns-only", "type-only", "count-only"],
)
def test_storage_config_mapping_fills_in_sdk_defaults(storage_config):
    doc = document(replication_locations=[{"location": "eastus", "storage_config": storage_config}])

    storage = normalised(doc)["replication_locations"][0]["storage_config"]

    assert storage["storage_account_hns"] == storage_config.get("storage_account_hns", False)
    assert storage["storage_account_type"].lower() == storage_config.get("storage_account_type", "standard_lrs").lower()
    assert storage["replication_count"] == storage_config.get("replication_count", 1)


@pytest.mark.parametrize("storage_config", [None, "absent"], ids=["null", "absent"])
def test_storage_config_null_or_absent_gives_the_default(storage_config):
    entry: dict[str, Any] = {"location": "eastus"}
    if storage_config != "absent":
        entry["storage_config"] = storage_config

    out = normalised(document(replication_locations=[entry]))

    assert out["replication_locations"][0]["storage_config"] == DEFAULT_STORAGE


def test_storage_config_list_of_ids_is_rejected_as_bring_your_own_per_item():
    doc = document(replication_locations=[{"location": "eastus", "storage_config": [STORAGE_ID, STORAGE_ID]}])

    found = errors(doc)

    assert set(found) == {
        "replication_locations[0].storage_config[0]",
        "replication_locations[0].storage_config[1]",
    }
    assert all("bring-your-own" in message for message in found.values())


def test_storage_config_list_with_a_non_id_names_the_item():
    doc = document(replication_locations=[{"location": "eastus", "storage_config": [STORAGE_ID, "junk"]}])

    message = errors(doc)["replication_locations[0].storage_config[1]"]

    assert "not a storage account ARM id" in message


def test_storage_config_empty_list_is_rejected():
    doc = document(replication_locations=[{"location": "eastus", "storage_config": []}])

    assert "empty list" in errors(doc)["replication_locations[0].storage_config"]


def test_storage_config_that_is_a_string_is_rejected():
    doc = document(replication_locations=[{"location": "eastus", "storage_config": "Standard_LRS"}])

    assert "replication_locations[0].storage_config" in errors(doc)


# --- output-only and unknown keys -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("identity", {"type": "system_assigned", "principal_id": "p", "tenant_id": "t"}),
        ("kind", "registry"),
        ("sku", {"name": "P1"}),
        ("managed_resource_group", "{'resourceId': '/subscriptions/sub/resourceGroups/rg'}"),
        ("mlflow_registry_uri", "azureml://eastus.api.azureml.ms/mlflow/v1.0/registries/r"),
        ("discovery_url", "https://eastus.api.azureml.ms/registrymanagement/v1.0/registries/r/discovery"),
    ],
)
def test_output_only_keys_are_ignored(key, value):
    parsed = parse_spec(document(**{key: value}))

    assert key not in parsed.spec.to_document()
    assert parsed.spec == parse_spec(document()).spec


def test_the_output_only_keys_are_exactly_those_of_the_sdk_schema():
    assert {"identity", "kind", "sku", "managed_resource_group", "mlflow_registry_uri", "discovery_url"} == (
        OUTPUT_ONLY_KEYS
    )


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        (document(region_details=[{"location": "eastus"}]), "region_details"),
        (document(display_name="Demo"), "display_name"),
        (
            document(replication_locations=[{"location": "eastus", "acr_config": []}]),
            "replication_locations[0].acr_config",
        ),
        (
            document(replication_locations=[{"location": "eastus", "storage_config": {"storage_account_name": "s"}}]),
            "replication_locations[0].storage_config.storage_account_name",
        ),
        (
            document(replication_locations=[{"location": "eastus", "storage_config": {"arm_resource_id": STORAGE_ID}}]),
            "replication_locations[0].storage_config.arm_resource_id",
        ),
    ],
    ids=["region_details", "display_name", "acr_config", "storage_account_name", "storage-arm_resource_id"],
)
def test_unknown_keys_are_rejected_where_they_are(doc, path):
    assert "unknown field" in errors(doc)[path]


@pytest.mark.parametrize("key", ["system", "ids", "id"])
def test_unknown_keys_named_like_union_members_keep_their_path(key):
    doc = document(replication_locations=[{"location": "eastus", "storage_config": {key: 1}}])

    assert f"replication_locations[0].storage_config.{key}" in errors(doc)


def test_a_wrongly_typed_top_level_id_is_reported_at_id():
    assert errors(document(id=5)) == {"id": "must be a string"}


# --- replication_locations: missing, empty, incomplete ----------------------------------------------


def test_missing_replication_locations_is_required():
    doc = document()
    del doc["replication_locations"]

    assert "required" in errors(doc)["replication_locations"]


def test_empty_replication_locations_gets_the_primary_added_with_a_warning():
    parsed = parse_spec(document(replication_locations=[]))

    assert parsed.spec.to_document()["replication_locations"] == [
        {"location": "eastus", "storage_config": DEFAULT_STORAGE}
    ]
    assert len(parsed.warnings) == 1
    assert "eastus" in parsed.warnings[0]


def test_a_replication_location_without_location_is_required():
    doc = document(replication_locations=[{"location": "eastus"}, {"storage_config": {}}])

    assert errors(doc) == {"replication_locations[1].location": "required"}


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (None, "replication_locations"),
        ("eastus", "replication_locations"),
        (["eastus"], "replication_locations[0]"),
    ],
    ids=["null", "string", "list-of-strings"],
)
def test_replication_locations_of_the_wrong_shape_are_rejected(value, path):
    assert path in errors(document(replication_locations=value))
