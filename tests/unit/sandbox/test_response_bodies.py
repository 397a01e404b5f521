"""Pure pieces behind the simulator's response bodies: region pairs, merging, storage body parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.arm import azurite
from sandbox.arm.bodies import deep_merge, merge_patch, without_nulls
from sandbox.arm.config import Settings
from sandbox.arm.envelope import ArmError
from sandbox.arm.state import StorageAccount
from sandbox.arm.storage_body import (
    EXPAND_GEO_STATS,
    account_body,
    enabled_encryption_services,
    parse_expand,
    record_encryption,
)
from sandbox.arm.storage_rules import check_sku_location
from shared.domain.region_pairs import REGION_PAIRS, paired_region
from shared.domain.regions import REGIONS

#: Pairs Microsoft Learn states as one-way ("West India is paired in one direction only", ...).
ONE_WAY = {"westindia", "westus3", "brazilsouth", "brazilsoutheast"}


def test_every_pair_joins_two_distinct_regions_of_the_catalog() -> None:
    for region, secondary in REGION_PAIRS.items():
        assert region in REGIONS
        assert secondary in REGIONS
        assert secondary != region
    assert list(REGION_PAIRS) == sorted(REGION_PAIRS)


def test_pairs_are_mutual_except_the_documented_one_way_ones() -> None:
    not_mutual = {region for region, secondary in REGION_PAIRS.items() if REGION_PAIRS.get(secondary) != region}

    assert not_mutual == ONE_WAY


@pytest.mark.parametrize("region", ["polandcentral", "italynorth", "israelcentral", "qatarcentral", "mexicocentral"])
def test_regions_listed_without_a_pair_have_none(region: str) -> None:
    assert paired_region(region) is None


def test_paired_region_ignores_case() -> None:
    assert paired_region("EastUS2") == "centralus"


def test_a_geo_sku_needs_a_paired_region() -> None:
    check_sku_location("Standard_LRS", "polandcentral")
    check_sku_location("Standard_RAGZRS", "eastus")
    with pytest.raises(ArmError) as raised:
        check_sku_location("Standard_GZRS", "polandcentral")
    assert (raised.value.status, raised.value.code) == (400, "AccountTypeNotSupportedInLocation")


def test_deep_merge_merges_objects_and_copies() -> None:
    base = {"acls": {"bypass": "AzureServices", "ipRules": []}, "tier": "Hot"}
    over = {"acls": {"defaultAction": "Deny"}, "tier": "Cool"}

    merged = deep_merge(base, over)
    merged["acls"]["ipRules"].append("x")

    assert merged == {"acls": {"bypass": "AzureServices", "ipRules": ["x"], "defaultAction": "Deny"}, "tier": "Cool"}
    assert base["acls"]["ipRules"] == []


def test_merge_patch_follows_rfc_7396() -> None:
    target = {"a": {"b": 1, "c": 2}, "d": [1], "e": "x"}

    merge_patch(target, {"a": {"b": None, "f": 3}, "d": [2], "e": None, "g": {"h": 1}})

    assert target == {"a": {"c": 2, "f": 3}, "d": [2], "g": {"h": 1}}


def test_without_nulls_drops_them_at_every_depth() -> None:
    assert without_nulls({"a": None, "b": {"c": None, "d": 1}}) == {"b": {"d": 1}}


def test_parse_expand_is_case_insensitive_and_comma_separated() -> None:
    assert parse_expand("GeoReplicationStats, blobRestoreStatus") == {EXPAND_GEO_STATS, "blobrestorestatus"}
    assert parse_expand("") == frozenset()


def _account(sku: str, **properties: object) -> StorageAccount:
    return StorageAccount(
        subscription="00000000-0000-4000-8000-0000000000a1",
        resource_group="rg",
        name="acct1",
        location="westeurope",
        kind="StorageV2",
        sku=sku,
        tags={},
        properties=dict(properties),
    )


def test_blob_and_file_are_always_encrypted_other_services_on_request() -> None:
    assert enabled_encryption_services({}) == {"blob", "file"}
    services = {"queue": {"keyType": "Service"}, "table": {"enabled": False}, "bogus": {}}
    assert enabled_encryption_services({"encryption": {"services": services}}) == {"blob", "file", "queue"}


def test_record_encryption_keeps_the_first_enabled_time() -> None:
    acct = _account("Standard_LRS")
    first, later = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    record_encryption(acct, first)
    acct.properties["encryption"] = {"services": {"queue": {"keyType": "Account"}}}
    record_encryption(acct, later)

    assert acct.encryption_enabled == {"blob": first, "file": first, "queue": later}


def test_a_read_access_account_body_has_the_proxys_secondary_and_the_pair() -> None:
    settings = Settings()
    acct = _account("Standard_RAGRS")
    acct.pool_index = 5
    record_encryption(acct, acct.created_wall)

    props = account_body(acct, settings, 0.0)["properties"]

    assert props["secondaryLocation"] == "northeurope"
    assert props["secondaryEndpoints"]["blob"] == f"{settings.blob_endpoint}/{acct.name}-secondary/"
    name, _ = azurite.pool_account(5)
    assert props["secondaryEndpoints"]["queue"].endswith(f":10001/{name}-secondary/")
    assert "file" not in props["secondaryEndpoints"]
    assert "geoReplicationStats" not in props


def test_geo_stats_only_with_expand_and_a_wall_clock() -> None:
    acct = _account("Standard_GRS")
    now = datetime(2025, 3, 4, 5, 6, 7, 890, tzinfo=UTC)

    plain = account_body(acct, Settings(), 0.0, now_wall=now)["properties"]
    expanded = account_body(acct, Settings(), 0.0, expand=frozenset({EXPAND_GEO_STATS}), now_wall=now)["properties"]

    assert "geoReplicationStats" not in plain
    assert expanded["geoReplicationStats"]["lastSyncTime"] == "2025-03-04T05:06:07Z"
    assert expanded["geoReplicationStats"]["postPlannedFailoverRedundancy"] == "Standard_GRS"
