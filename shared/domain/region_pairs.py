"""Azure's region pairs: the secondary region that geo-redundant storage (GRS, GZRS) replicates to.

Sources, both Microsoft Learn (MicrosoftDocs/azure-docs):
* "Azure regions list" (``articles/reliability/regions-list.md``, ms.date 03/21/2025), its "Paired
  region" column: the secondary of each region. Pairs are directional: West India's secondary is
  South India but South India's is Central India; West US 3's is East US but East US's is West US;
  Brazil South's is South Central US but South Central US's is North Central US.
* "Azure region pairs and nonpaired regions" (``articles/reliability/regions-paired.md``): Sweden
  Central <-> Sweden South (the regions list has no row for the access-restricted Sweden South).
Jio India West <-> Jio India Central are paired in the ARM location metadata
(``az account list-locations``, ``metadata.pairedRegion``); the Learn tables omit both regions.

Regions of the catalog (``shared.domain.regions``) that are absent here have no pair ("Regions
without a pair will not have geo-redundant storage (GRS)", Cross-region replication in Azure).
"""

from __future__ import annotations

# Region -> its secondary. Keep sorted by region.
REGION_PAIRS: dict[str, str] = {
    "australiacentral": "australiacentral2",
    "australiacentral2": "australiacentral",
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "brazilsouth": "southcentralus",
    "brazilsoutheast": "brazilsouth",
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "centralindia": "southindia",
    "centralus": "eastus2",
    "eastasia": "southeastasia",
    "eastus": "westus",
    "eastus2": "centralus",
    "francecentral": "francesouth",
    "francesouth": "francecentral",
    "germanynorth": "germanywestcentral",
    "germanywestcentral": "germanynorth",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
    "jioindiacentral": "jioindiawest",
    "jioindiawest": "jioindiacentral",
    "koreacentral": "koreasouth",
    "koreasouth": "koreacentral",
    "northcentralus": "southcentralus",
    "northeurope": "westeurope",
    "norwayeast": "norwaywest",
    "norwaywest": "norwayeast",
    "southafricanorth": "southafricawest",
    "southafricawest": "southafricanorth",
    "southcentralus": "northcentralus",
    "southeastasia": "eastasia",
    "southindia": "centralindia",
    "swedencentral": "swedensouth",
    "swedensouth": "swedencentral",
    "switzerlandnorth": "switzerlandwest",
    "switzerlandwest": "switzerlandnorth",
    "uaecentral": "uaenorth",
    "uaenorth": "uaecentral",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "westcentralus": "westus2",
    "westeurope": "northeurope",
    "westindia": "southindia",
    "westus": "eastus",
    "westus2": "westcentralus",
    "westus3": "eastus",
}


def paired_region(name: str) -> str | None:
    """The secondary region of ``name`` (case-insensitive), ``None`` for a region without a pair."""
    return REGION_PAIRS.get(name.lower())
