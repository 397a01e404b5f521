"""The registry data plane's translation (pure): azure-ai-ml's version bodies as regctl's asset documents,
content URIs in the host-style form the SDK parses, list views and ordering, tempdatarefs' asset id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.arm_assets import (
    check_api_version,
    content_uri,
    list_view,
    ordered,
    parse_registration,
    registration_document,
    temp_reference_type,
)
from shared.domain.asset_records import AssetVersionRecord
from shared.domain.asset_spec import AssetType
from shared.domain.errors import InvalidSpec

UPLOAD = "https://127.0.0.1:8445/acct00/upload-" + "a" * 32


def test_a_model_body_is_the_document_regctl_model_create_sends():
    body = {
        "properties": {
            "description": None,
            "tags": {"t": "1"},
            "properties": {},
            "isAnonymous": False,
            "modelType": "CustomModel",
            "modelUri": UPLOAD + "/clf",
            "system_metadata": None,
        }
    }
    assert registration_document(AssetType.MODELS, "clf", "1", body) == {
        "name": "clf",
        "version": "1",
        "description": "",
        "tags": {"t": "1"},
        "properties": {},
        "type": "custom_model",
        "path": UPLOAD + "/clf",
    }


def test_a_uri_file_data_asset_names_the_folder_of_its_one_file():
    body = {"properties": {"dataType": "uri_file", "dataUri": UPLOAD + "/rows.csv"}}
    definition = parse_registration(AssetType.DATA, "rows", "3", body)
    assert definition.content == UPLOAD and definition.fields == {"type": "uri_file"}


@pytest.mark.parametrize(
    ("props", "target"),
    [
        ({"dataType": "mltable", "dataUri": UPLOAD}, "properties.dataType"),
        ({"dataType": "uri_folder"}, "properties.dataUri"),
        ({"dataType": "uri_folder", "dataUri": UPLOAD, "referencedUris": ["x"]}, "properties.referencedUris"),
        ({"dataType": "uri_folder", "dataUri": UPLOAD, "tags": {"k": ["list"]}}, "properties.tags.k"),
    ],
)
def test_refusals_name_the_wire_field(props, target):
    with pytest.raises(InvalidSpec) as refused:
        parse_registration(AssetType.DATA, "rows", "1", {"properties": props})
    assert [e.path for e in refused.value.errors] == [target]


def test_content_uris_are_host_style_whatever_the_endpoint():
    assert content_uri("https://acct00.blob.core.windows.net/", "acct00", "assets", "models/clf/1/") == (
        "https://acct00.blob.core.windows.net/assets/models/clf/1/"
    )
    assert content_uri("https://127.0.0.1:8445/acct00/", "acct00", "assets", "data/rows/3/rows.csv") == (
        "https://acct00.blob.core.windows.net/assets/data/rows/3/rows.csv"
    )


@pytest.mark.parametrize(
    ("value", "view"),
    [
        (None, (True, False)),
        ("ActiveOnly", (True, False)),
        ("ListViewType.ACTIVE_ONLY", (True, False)),
        ("ArchivedOnly", (False, True)),
        ("All", (True, True)),
    ],
)
def test_list_views_read_arms_names_and_the_sdks_enum_names(value, view):
    assert list_view(value) == view


def test_versions_are_ordered_by_registration_and_cut_by_top():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    versions = [
        AssetVersionRecord("r", AssetType.MODELS, "clf", v, "d", created_at=start + timedelta(minutes=i))
        for i, v in enumerate(["1", "10", "2"])
    ]
    assert [v.version for v in ordered(versions, "createdtime desc", "1")] == ["2"]
    assert [v.version for v in ordered(versions, None, None)] == ["1", "10", "2"]


def test_tempdatarefs_must_name_the_version_of_its_path_and_a_served_type():
    body = {"assetId": "azureml://registries/R/data/rows/versions/3"}
    assert temp_reference_type("r", "rows", "3", body) is AssetType.DATA
    with pytest.raises(InvalidSpec):
        temp_reference_type("r", "rows", "4", body)
    with pytest.raises(InvalidSpec):
        temp_reference_type("r", "env", "1", {"assetId": "azureml://registries/r/environments/env/versions/1"})


def test_only_the_data_planes_api_version_is_served():
    check_api_version("2021-10-01-dataplanepreview")
    with pytest.raises(InvalidSpec) as refused:
        check_api_version("2022-10-01-preview")
    assert refused.value.code == "InvalidApiVersionParameter"
