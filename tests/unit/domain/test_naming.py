"""Deterministic Azure resource names (shared/domain/naming.py).

Property tests over arbitrary valid registry names (``NAME_PATTERN``), catalog regions, storage indices
(``replication_count`` is at most ``MAX_REPLICATION_COUNT``) and fallback attempts. The expected shapes are
Azure's rules: storage accounts 3-24 lowercase letters and digits, ACRs 5-50 alphanumerics, resource
groups at most 90 characters of ``^[-\\w\\._\\(\\)]+$`` not ending in a period.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.naming import (
    DEFAULT_RESOURCE_GROUP_PREFIX,
    MAX_NAME_ATTEMPTS,
    container_registry_name,
    region_code,
    resource_group_name,
    storage_account_name,
    storage_name_attempt,
)
from shared.domain.regions import REGIONS
from shared.domain.spec_fields import MAX_REPLICATION_COUNT, NAME_PATTERN

STORAGE_RULE = re.compile(r"[a-z0-9]{3,24}")
ACR_RULE = re.compile(r"[A-Za-z0-9]{5,50}")
RESOURCE_GROUP_RULE = re.compile(r"[-\w._()]{1,90}")

names = st.from_regex(NAME_PATTERN, fullmatch=True)
regions = st.sampled_from(sorted(REGIONS))
indices = st.integers(0, MAX_REPLICATION_COUNT - 1)
attempts = st.integers(0, MAX_NAME_ATTEMPTS - 1)
storage_slots = st.tuples(names, regions, indices, attempts)

PROPERTY = settings(max_examples=50, deadline=None)


def readable(registry: str) -> str:
    return re.sub(r"[^a-z0-9]", "", registry.lower())


def case_variants(name: str) -> list[str]:
    return [name, name.lower(), name.upper(), name.swapcase()]


# --- storage accounts -----------------------------------------------------------------------------


@PROPERTY
@given(storage_slots)
def test_storage_names_are_3_to_24_lowercase_letters_and_digits(slot):
    assert STORAGE_RULE.fullmatch(storage_account_name(*slot))


@PROPERTY
@given(storage_slots)
def test_storage_names_start_with_the_registrys_readable_prefix(slot):
    registry = slot[0]

    assert storage_account_name(*slot).startswith(readable(registry)[:6])


@PROPERTY
@given(names, indices, attempts)
def test_storage_names_are_distinct_across_every_catalog_region(registry, index, attempt):
    generated = {storage_account_name(registry, region, index, attempt) for region in REGIONS}

    assert len(generated) == len(REGIONS)


@PROPERTY
@given(names, regions, attempts)
def test_storage_names_are_distinct_across_indices(registry, region, attempt):
    generated = {storage_account_name(registry, region, i, attempt) for i in range(MAX_REPLICATION_COUNT)}

    assert len(generated) == MAX_REPLICATION_COUNT


@PROPERTY
@given(names, regions, indices)
def test_storage_names_are_distinct_across_the_whole_fallback_sequence(registry, region, index):
    generated = {storage_account_name(registry, region, index, a) for a in range(MAX_NAME_ATTEMPTS)}

    assert len(generated) == MAX_NAME_ATTEMPTS


@PROPERTY
@given(storage_slots, storage_slots)
def test_storage_names_are_equal_exactly_when_the_slots_are_equal_ignoring_registry_case(one, other):
    same_slot = (one[0].lower(), *one[1:]) == (other[0].lower(), *other[1:])

    assert (storage_account_name(*one) == storage_account_name(*other)) is same_slot


@PROPERTY
@given(st.tuples(names, names).filter(lambda pair: pair[0].lower() != pair[1].lower()), regions, indices)
def test_storage_names_of_different_registries_differ_in_the_same_slot(pair, region, index):
    one, other = pair

    assert storage_account_name(one, region, index) != storage_account_name(other, region, index)


@PROPERTY
@given(storage_slots)
def test_storage_names_ignore_the_case_of_the_registry_name(slot):
    registry, region, index, attempt = slot

    assert len({storage_account_name(v, region, index, attempt) for v in case_variants(registry)}) == 1


@PROPERTY
@given(storage_slots)
def test_storage_name_attempt_round_trips(slot):
    assert storage_name_attempt(storage_account_name(*slot)) == slot[3]


@pytest.mark.parametrize("attempt", [-1, MAX_NAME_ATTEMPTS, 100])
def test_out_of_range_storage_attempts_are_rejected(attempt):
    with pytest.raises(ValueError, match="attempt"):
        storage_account_name("DemoRegistry1", "eastus", 0, attempt)


@pytest.mark.parametrize("index", [-1, 36])
def test_out_of_range_storage_indices_are_rejected(index):
    with pytest.raises(ValueError, match="index"):
        storage_account_name("DemoRegistry1", "eastus", index)


def test_the_fallback_sequence_covers_enough_attempts_for_every_storage_index():
    assert MAX_NAME_ATTEMPTS >= 10
    assert MAX_REPLICATION_COUNT <= 36  # one base-36 character encodes the index


def test_region_codes_are_unique_over_the_whole_catalog():
    codes = {region_code(region) for region in REGIONS}

    assert len(codes) == len(REGIONS)


# --- container registries -------------------------------------------------------------------------


@PROPERTY
@given(names, attempts)
def test_acr_names_are_5_to_50_alphanumerics(registry, attempt):
    assert ACR_RULE.fullmatch(container_registry_name(registry, attempt))


@PROPERTY
@given(names, attempts)
def test_acr_names_start_with_the_registrys_readable_name(registry, attempt):
    assert container_registry_name(registry, attempt).startswith(readable(registry)[:40])


@PROPERTY
@given(names)
def test_acr_names_are_distinct_across_the_fallback_sequence(registry):
    assert len({container_registry_name(registry, a) for a in range(MAX_NAME_ATTEMPTS)}) == MAX_NAME_ATTEMPTS


@PROPERTY
@given(st.tuples(names, names).filter(lambda pair: pair[0].lower() != pair[1].lower()), attempts)
def test_acr_names_of_different_registries_differ(pair, attempt):
    one, other = pair

    assert container_registry_name(one, attempt) != container_registry_name(other, attempt)


@PROPERTY
@given(names, attempts)
def test_acr_names_ignore_the_case_of_the_registry_name(registry, attempt):
    assert len({container_registry_name(v, attempt) for v in case_variants(registry)}) == 1


@pytest.mark.parametrize("attempt", [-1, MAX_NAME_ATTEMPTS])
def test_out_of_range_acr_attempts_are_rejected(attempt):
    with pytest.raises(ValueError, match="attempt"):
        container_registry_name("DemoRegistry1", attempt)


# --- resource groups ------------------------------------------------------------------------------


@PROPERTY
@given(names)
def test_resource_group_names_carry_the_lowercase_registry_name_and_are_valid_for_arm(registry):
    group = resource_group_name(registry)

    assert registry.lower() in group
    assert RESOURCE_GROUP_RULE.fullmatch(group)
    assert not group.endswith(".")


@PROPERTY
@given(names)
def test_resource_group_names_ignore_the_case_of_the_registry_name(registry):
    assert len({resource_group_name(v) for v in case_variants(registry)}) == 1


@PROPERTY
@given(st.tuples(names, names).filter(lambda pair: pair[0].lower() != pair[1].lower()))
def test_resource_group_names_of_different_registries_differ(pair):
    assert resource_group_name(pair[0]) != resource_group_name(pair[1])


def test_resource_group_names_use_the_configured_prefix():
    assert resource_group_name("DemoRegistry1", prefix="ml-") == "ml-demoregistry1"
    assert resource_group_name("DemoRegistry1") == DEFAULT_RESOURCE_GROUP_PREFIX + "demoregistry1"
