"""Storage account rules: names, SKUs, kinds and which SKU changes an update may make.

Sources (arm-behavior.md section 2): names are 3-24 lowercase letters and digits; the update docstring
says the SKU "cannot be updated to Standard_ZRS, Premium_LRS or Premium_ZRS, nor can accounts of those
SKU names be updated to any other value"; LRS, GRS and RA-GRS convert into one another, as do GZRS and
RA-GZRS. A change from LRS to (RA-)GZRS is a conversion request outside the update API, refused here.
Geo-redundant SKUs replicate to the region's pair (``shared.domain.region_pairs``); "Regions without a
pair will not have geo-redundant storage (GRS)" (Microsoft Learn, "Cross-region replication in Azure").
"""

from __future__ import annotations

import re

from sandbox.arm.envelope import ArmError
from shared.domain.region_pairs import paired_region

NAME_RE = re.compile(r"^[a-z0-9]{3,24}$")

#: SKU name -> tier.
SKUS: dict[str, str] = {
    "Standard_LRS": "Standard",
    "Standard_GRS": "Standard",
    "Standard_RAGRS": "Standard",
    "Standard_ZRS": "Standard",
    "Standard_GZRS": "Standard",
    "Standard_RAGZRS": "Standard",
    "Premium_LRS": "Premium",
    "Premium_ZRS": "Premium",
    "StandardV2_LRS": "Standard",
    "StandardV2_GRS": "Standard",
    "StandardV2_ZRS": "Standard",
    "StandardV2_GZRS": "Standard",
    "PremiumV2_LRS": "Premium",
    "PremiumV2_ZRS": "Premium",
}

#: SKUs that keep a copy in the paired region: ``secondaryLocation`` and ``statusOfSecondary``.
GEO_REDUNDANT_SKUS = frozenset(
    {"Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS", "StandardV2_GRS", "StandardV2_GZRS"}
)

#: Geo-redundant SKUs whose secondary is readable: they also have ``secondaryEndpoints``.
READ_ACCESS_SKUS = frozenset({"Standard_RAGRS", "Standard_RAGZRS"})

#: Kind -> SKUs it can be created with.
KIND_SKUS: dict[str, frozenset[str]] = {
    "Storage": frozenset({"Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS"}),
    "StorageV2": frozenset(
        {
            "Standard_LRS",
            "Standard_GRS",
            "Standard_RAGRS",
            "Standard_ZRS",
            "Standard_GZRS",
            "Standard_RAGZRS",
            "Premium_LRS",
            "Premium_ZRS",
        }
    ),
    "BlobStorage": frozenset({"Standard_LRS", "Standard_GRS", "Standard_RAGRS"}),
    "BlockBlobStorage": frozenset({"Premium_LRS", "Premium_ZRS"}),
    "FileStorage": frozenset(
        {
            "Premium_LRS",
            "Premium_ZRS",
            "StandardV2_LRS",
            "StandardV2_GRS",
            "StandardV2_ZRS",
            "StandardV2_GZRS",
            "PremiumV2_LRS",
            "PremiumV2_ZRS",
        }
    ),
}

#: Kinds that may have a hierarchical namespace (ADLS Gen2).
HNS_KINDS = frozenset({"StorageV2", "BlockBlobStorage"})

#: Groups of SKUs an update may move between.
_CONVERTIBLE = (
    frozenset({"Standard_LRS", "Standard_GRS", "Standard_RAGRS"}),
    frozenset({"Standard_GZRS", "Standard_RAGZRS"}),
)

#: Properties only Azure sets: a PUT/PATCH that sends them back (a GET body reused) does not set them.
READ_ONLY_PROPERTIES = frozenset(
    {
        "provisioningState",
        "creationTime",
        "keyCreationTime",
        "primaryEndpoints",
        "primaryLocation",
        "statusOfPrimary",
        "secondaryEndpoints",
        "secondaryLocation",
        "statusOfSecondary",
        "geoReplicationStats",
        "lastGeoFailoverTime",
        "failoverInProgress",
        "blobRestoreStatus",
        "accountMigrationInProgress",
        "isSkuConversionBlocked",
        "storageAccountSkuConversionStatus",
    }
)

#: Properties that exist on create but not in ``StorageAccountPropertiesUpdateParameters``.
IMMUTABLE_PROPERTIES = ("isHnsEnabled",)


def name_problem(name: str) -> str | None:
    """The ARM message for an invalid account name, ``None`` if valid."""
    if NAME_RE.match(name):
        return None
    return (
        f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
        "characters in length and use numbers and lower-case letters only."
    )


def canonical_sku(raw: object) -> str:
    """The SKU name with its canonical casing, or 400 ``InvalidAccountType``."""
    if isinstance(raw, str):
        for sku in SKUS:
            if sku.lower() == raw.lower():
                return sku
    raise ArmError(400, "InvalidAccountType", "The SKU specified is not valid.")


def canonical_kind(raw: object) -> str:
    if isinstance(raw, str):
        for kind in KIND_SKUS:
            if kind.lower() == raw.lower():
                return kind
    raise ArmError(400, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: kind.")


def check_kind_sku(kind: str, sku: str, hns: bool) -> None:
    if sku not in KIND_SKUS[kind]:
        raise ArmError(
            400, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: kind, sku."
        )
    if hns and kind not in HNS_KINDS:
        raise ArmError(
            400,
            "InvalidValuesForRequestParameters",
            "Values for request parameters are invalid: isHnsEnabled (only StorageV2 and BlockBlobStorage "
            "accounts can have a hierarchical namespace).",
        )


def check_sku_location(sku: str, location: str) -> None:
    """400 ``AccountTypeNotSupportedInLocation`` for a geo-redundant SKU in a region without a pair."""
    if sku in GEO_REDUNDANT_SKUS and paired_region(location) is None:
        raise ArmError(400, "AccountTypeNotSupportedInLocation", "The SKU is not supported in the specified location.")


def check_sku_change(old: str, new: str) -> None:
    """400 ``StorageAccountTypeConversionNotAllowed`` unless ``old -> new`` is an allowed update."""
    if old == new:
        return
    if any(old in group and new in group for group in _CONVERTIBLE):
        return
    raise ArmError(
        400,
        "StorageAccountTypeConversionNotAllowed",
        f"Storage account type conversion from '{old}' to '{new}' is not allowed.",
    )


def check_kind_change(old: str, new: str) -> None:
    """Only an upgrade to StorageV2 is possible ("Currently only StorageV2 value supported by server")."""
    if old == new or (new == "StorageV2" and old in ("Storage", "BlobStorage")):
        return
    raise property_cannot_be_updated("kind")


def property_cannot_be_updated(prop: str) -> ArmError:
    return ArmError(
        400,
        "AccountPropertyCannotBeUpdated",
        f"The property '{prop}' was specified in the input, but it cannot be updated.",
    )
