"""The region catalog and region-name normalisation (shared/domain/regions.py)."""

from __future__ import annotations

import re

import pytest

from shared.domain.regions import REGIONS, is_known_region, normalize_region, suggest_region


def test_catalog_arm_names_are_lowercase_letters_and_digits():
    assert all(re.fullmatch(r"[a-z][a-z0-9]+", name) for name in REGIONS)


def test_catalog_display_names_are_distinct():
    assert len({display.lower() for display in REGIONS.values()}) == len(REGIONS)


def test_catalog_has_the_regions_of_the_seed_examples():
    assert {"eastus", "eastus2", "westus", "westus2", "westcentralus"} <= set(REGIONS)


@pytest.mark.parametrize(("arm", "display"), sorted(REGIONS.items()))
def test_every_display_name_is_rejected_with_its_arm_name(arm, display):
    with pytest.raises(ValueError, match=re.escape(f'did you mean "{arm}"?')):
        normalize_region(display)


@pytest.mark.parametrize("arm", sorted(REGIONS))
def test_every_arm_name_normalises_to_itself_in_any_case(arm):
    assert normalize_region(arm.upper()) == arm
    assert is_known_region(arm.upper())


def test_unknown_region_messages_are_shortened():
    with pytest.raises(ValueError) as caught:
        normalize_region("x" * 10_000)

    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [("East US 2", "eastus2"), ("east_us", "eastus"), ("westeurop", "westeurope"), ("Jupiter", None)],
)
def test_suggestions_cover_display_names_punctuation_and_typos(value, suggestion):
    assert suggest_region(value) == suggestion
