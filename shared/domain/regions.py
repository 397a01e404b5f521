"""Catalog of the public Azure regions (ARM name -> display name).

Source: the physical regions that ``az account list-locations -o table`` lists for the public cloud
(Microsoft Learn, "Azure regions list"). Logical/edge entries (``eastusstg``, ``global``, geography
names such as ``unitedstates``) are left out on purpose: registries live in physical regions.
"""

from __future__ import annotations

import difflib
import re

# ARM name -> display name. Keep sorted by ARM name.
REGIONS: dict[str, str] = {
    "australiacentral": "Australia Central",
    "australiacentral2": "Australia Central 2",
    "australiaeast": "Australia East",
    "australiasoutheast": "Australia Southeast",
    "austriaeast": "Austria East",
    "belgiumcentral": "Belgium Central",
    "brazilsouth": "Brazil South",
    "brazilsoutheast": "Brazil Southeast",
    "canadacentral": "Canada Central",
    "canadaeast": "Canada East",
    "centralindia": "Central India",
    "centralus": "Central US",
    "chilecentral": "Chile Central",
    "denmarkeast": "Denmark East",
    "eastasia": "East Asia",
    "eastus": "East US",
    "eastus2": "East US 2",
    "francecentral": "France Central",
    "francesouth": "France South",
    "germanynorth": "Germany North",
    "germanywestcentral": "Germany West Central",
    "indonesiacentral": "Indonesia Central",
    "israelcentral": "Israel Central",
    "italynorth": "Italy North",
    "japaneast": "Japan East",
    "japanwest": "Japan West",
    "jioindiacentral": "Jio India Central",
    "jioindiawest": "Jio India West",
    "koreacentral": "Korea Central",
    "koreasouth": "Korea South",
    "malaysiawest": "Malaysia West",
    "mexicocentral": "Mexico Central",
    "newzealandnorth": "New Zealand North",
    "northcentralus": "North Central US",
    "northeurope": "North Europe",
    "norwayeast": "Norway East",
    "norwaywest": "Norway West",
    "polandcentral": "Poland Central",
    "qatarcentral": "Qatar Central",
    "southafricanorth": "South Africa North",
    "southafricawest": "South Africa West",
    "southcentralus": "South Central US",
    "southeastasia": "Southeast Asia",
    "southindia": "South India",
    "spaincentral": "Spain Central",
    "swedencentral": "Sweden Central",
    "swedensouth": "Sweden South",
    "switzerlandnorth": "Switzerland North",
    "switzerlandwest": "Switzerland West",
    "uaecentral": "UAE Central",
    "uaenorth": "UAE North",
    "uksouth": "UK South",
    "ukwest": "UK West",
    "westcentralus": "West Central US",
    "westeurope": "West Europe",
    "westindia": "West India",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
}

_DISPLAY_TO_NAME = {display.lower(): name for name, display in REGIONS.items()}


def is_known_region(name: str) -> bool:
    """True when ``name`` is an ARM region name of the catalog (case-insensitive)."""
    return name.lower() in REGIONS


def normalize_region(value: str) -> str:
    """Return the canonical (lowercase) ARM name, or raise ``ValueError`` with a suggestion.

    Only ARM names are accepted, as ``az ml registry create`` needs them; a display name such as
    ``East US 2`` is refused with the ARM name it stands for.
    """
    lowered = value.strip().lower()
    if lowered in REGIONS:
        return lowered
    suggestion = suggest_region(value)
    hint = f' did you mean "{suggestion}"?' if suggestion else ""
    shown = value if len(value) <= 40 else value[:40] + "..."
    if lowered in _DISPLAY_TO_NAME:
        raise ValueError(f'"{shown}" is a display name; use the ARM region name.{hint}')
    raise ValueError(f'unknown Azure region "{shown}".{hint}')


def suggest_region(value: str) -> str | None:
    """The closest ARM region name for a display name, a typo or other casing; ``None`` if none is close."""
    lowered = value.strip().lower()
    if lowered in _DISPLAY_TO_NAME:
        return _DISPLAY_TO_NAME[lowered]
    squashed = re.sub(r"[^a-z0-9]", "", lowered)
    if squashed in REGIONS:
        return squashed
    close = difflib.get_close_matches(squashed, list(REGIONS), n=1, cutoff=0.75)
    return close[0] if close else None
