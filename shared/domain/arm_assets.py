"""Azure ML's registry data plane (pure): the bodies azure-ai-ml sends for models and data in a registry, as
regctl's asset documents, and regctl's asset versions as the resources the SDK parses.

The SDK (1.35.2, ``_utils/_registry_utils.py``) discovers a registry, then calls
``{primaryRegionResourceProviderUri}mferp/managementfrontend/subscriptions/{sub}/resourceGroups/{rg}/providers/
Microsoft.MachineLearningServices/registries/{r}/...`` at api-version ``2021-10-01-dataplanepreview``
(shared/reference/azure-ai-ml-client.md section 5, assets-events.md section 1). Field names here are the
wire's; ``parse_registration`` hands ``parse_asset`` the same document ``regctl model create`` sends, so a
version registered through the SDK is the same asset as one registered through ``/api``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from shared.domain.access import Principal
from shared.domain.asset_records import AssetStatus, AssetVersionRecord
from shared.domain.asset_spec import AssetDefinition, AssetType, asset_id, parse_asset, parse_asset_id
from shared.domain.documents import shorten
from shared.domain.errors import FieldError, InvalidSpec

DATAPLANE_API_VERSION = "2021-10-01-dataplanepreview"
DISCOVERY_API_VERSION = "v1.0"
MFE_SEGMENT = "/mferp/managementfrontend"
"""Where the SDK sends data-plane calls, under the discovered ``primaryRegionResourceProviderUri``."""
SERVED_TYPES = (AssetType.MODELS, AssetType.DATA)
DEFAULT_BLOB_SUFFIX = "blob.core.windows.net"
"""The host suffix of a version's content URI when the account's endpoint is path-style (an emulator)."""

_MODEL_TYPES = {"custommodel": "custom_model", "mlflowmodel": "mlflow_model", "tritonmodel": "triton_model"}
_PROVISIONING = {
    AssetStatus.CREATING: "Creating",
    AssetStatus.AVAILABLE: "Succeeded",
    AssetStatus.FAILED: "Failed",
    AssetStatus.DELETING: "Deleting",
}
_CONTENT = {AssetType.MODELS: "modelUri", AssetType.DATA: "dataUri"}
_KIND = {AssetType.MODELS: "modelType", AssetType.DATA: "dataType"}
#: Fields regctl cannot honour: refused when they carry a value (the SDK sends them empty or not at all).
_UNSERVED = ("jobName", "datasets", "referencedUris", "intellectualProperty", "autoDeleteSetting")
_UNSERVED_TEMPLATES = ("defaultDeploymentTemplate", "allowedDeploymentTemplates")
_LIST_VIEWS = {"activeonly": (True, False), "archivedonly": (False, True), "all": (True, True)}


def check_api_version(value: str | None, served: str = DATAPLANE_API_VERSION) -> None:
    """ARM's refusal of a missing or unserved api-version (the data plane serves one)."""
    if not value:
        raise InvalidSpec(
            "The api-version query parameter (?api-version=) is required for all requests.",
            code="MissingApiVersionParameter",
        )
    if value != served:
        raise InvalidSpec(
            f"The api-version '{shorten(value)}' is invalid. The supported versions are '{served}'.",
            code="InvalidApiVersionParameter",
        )


def version_type(asset_type: AssetType) -> str:
    return f"Microsoft.MachineLearningServices/registries/{asset_type.value}/versions"


def discovery(
    name: str,
    primary: str,
    regions: list[str],
    *,
    subscription_id: str,
    resource_group: str,
    provider_uri: str,
    tenant_id: str | None,
) -> dict[str, Any]:
    """The answer of ``registrymanagement/v1.0/registries/{name}/discovery``: every data-plane call of the
    SDK goes to ``provider_uri`` (with its trailing slash) + ``mferp/managementfrontend``."""
    base = provider_uri.rstrip("/") + "/"
    return {
        "registryName": name,
        "tenantId": tenant_id,
        "primaryRegion": primary,
        "regions": regions,
        "subscriptionId": subscription_id,
        "resourceGroup": resource_group,
        "workspaceName": None,
        "primaryRegionResourceProviderUri": base,
        "registryFqdns": {region: {"api": base} for region in regions},
    }


def temp_reference_type(registry: str, name: str, version: str, body: Mapping[str, Any]) -> AssetType:
    """The asset type a ``tempdatarefs`` request uploads for: its ``assetId`` must name this version."""
    raw = body.get("assetId")
    if not isinstance(raw, str):
        raise InvalidSpec("assetId is required", [FieldError("assetId", "an azureml://registries/... asset id")])
    found_registry, asset_type, found_name, found_version = parse_asset_id(raw)
    if (found_registry.lower(), found_name, found_version) != (registry.lower(), name, version):
        raise InvalidSpec(
            f"assetId {shorten(raw)} does not name {name} version {version} of registry {registry}",
            [FieldError("assetId", "must name the version of the path")],
        )
    if asset_type not in SERVED_TYPES:
        raise InvalidSpec(
            f"uploads for {asset_type.value} are not served; models and data are",
            [FieldError("assetId", "a model or data asset id")],
            code="UnsupportedAssetType",
        )
    return asset_type


def temp_reference(upload: Mapping[str, Any]) -> dict[str, Any]:
    """A pending upload (``AssetService.start_upload``) as the SDK's temporary data reference."""
    return {
        "blobReferenceForConsumption": upload["blobReferenceForConsumption"],
        "imageReferenceForConsumption": None,
        "temporaryDataReferenceId": upload["pendingUploadId"],
        "temporaryDataReferenceType": "TemporaryBlobReference",
    }


def data_reference(download: Mapping[str, Any]) -> dict[str, Any]:
    """A read credential (``AssetService.download``) as the SDK's ``datarefs`` answer. The SAS is the
    container's: the SDK opens it with ``ContainerClient.from_container_url`` and lists the version's prefix,
    which it reads from the version's content URI."""
    return {
        "blobReferenceForConsumption": {
            "blobUri": download["blobUri"],
            "storageAccountArmId": None,
            "credential": {"credentialType": "SAS", "sasUri": download["containerUri"]},
        }
    }


def _field(asset_type: AssetType, path: str) -> str:
    if path == "path":
        return "properties." + _CONTENT[asset_type]
    if path == "type":
        return "properties." + _KIND[asset_type]
    return path if path in ("name", "version", "") else "properties." + path


def arm_fields(exc: InvalidSpec, asset_type: AssetType) -> InvalidSpec:
    """``exc`` with its fields named as the wire's (``path`` is ``properties.modelUri``...)."""
    errors = [FieldError(_field(asset_type, e.path), e.message) for e in exc.errors]
    return InvalidSpec(exc.message, errors, code=exc.code)


def _parent(uri: str) -> str:
    base, _, query = uri.partition("?")
    parent = base.rstrip("/").rpartition("/")[0]
    return parent + ("?" + query if query else "")


def _refuse_unserved(props: Mapping[str, Any]) -> None:
    errors = [
        FieldError(f"properties.{key}", "not supported by regctl")
        for key in _UNSERVED + _UNSERVED_TEMPLATES
        if props.get(key) not in (None, [], {}, "")
    ]
    if props.get("isAnonymous") is True:
        errors.append(FieldError("properties.isAnonymous", "anonymous assets are not supported: give a name"))
    if props.get("isArchived") is True:
        errors.append(FieldError("properties.isArchived", "register the version, then archive it"))
    if errors:
        raise InvalidSpec("the request content is not supported", errors)


def registration_document(asset_type: AssetType, name: str, version: str, body: Any) -> dict[str, Any]:
    """The document ``parse_asset`` checks, from a version PUT body (``{"properties": {...}}``)."""
    props = body.get("properties") if isinstance(body, Mapping) else None
    if not isinstance(props, Mapping):
        raise InvalidSpec("the body needs properties", [FieldError("properties", "required: an object")])
    _refuse_unserved(props)
    doc: dict[str, Any] = {"name": name, "version": version, "description": props.get("description") or ""}
    for key in ("tags", "properties"):
        if props.get(key) is not None:
            doc[key] = props[key]
    content = props.get(_CONTENT[asset_type])
    kind = props.get(_KIND[asset_type])
    if asset_type is AssetType.MODELS:
        if isinstance(kind, str):
            kind = _MODEL_TYPES.get(kind.replace("_", "").lower(), kind)
        if props.get("flavors"):
            doc["flavors"] = props["flavors"]
        if props.get("stage") is not None:
            doc["stage"] = props["stage"]
    elif kind == "uri_file" and isinstance(content, str):
        content = _parent(content)  # the file's folder in the upload: the manifest holds the one file
    if kind is not None:
        doc["type"] = kind
    if content is not None:
        doc["path"] = content
    return doc


def parse_registration(asset_type: AssetType, name: str, version: str, body: Any) -> AssetDefinition:
    """A version PUT body, checked as ``regctl`` checks an asset YAML; fields named as the wire's."""
    document = registration_document(asset_type, name, version, body)  # its errors are named as the wire's
    try:
        return parse_asset(asset_type, document, name=name, version=version)
    except InvalidSpec as exc:
        raise arm_fields(exc, asset_type) from None


def content_uri(endpoint: str, account: str, container: str, path: str) -> str:
    """A blob's URI in the host-style form the SDK parses (``https://{account}.blob.../{container}/{path}``):
    the endpoint itself when it is host-style, else the account's canonical host (the SDK splits the URI as
    host, container, path; a path-style emulator URI would read as container = the account)."""
    parts = urlsplit(endpoint)
    host = parts.netloc if parts.netloc.lower().startswith(account.lower() + ".") else None
    base = f"https://{host}" if host else f"https://{account}.{DEFAULT_BLOB_SUFFIX}"
    return f"{base}/{container}/{path}"


def content_path(record: AssetVersionRecord) -> str:
    """The path of a version's content in the ``assets`` container: its folder, or a uri_file's file."""
    if record.type is AssetType.DATA and record.fields.get("type") == "uri_file" and len(record.files) == 1:
        return record.prefix + record.files[0].path
    return record.prefix


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _system_data(created_by: Principal | None, created: datetime, modified: datetime) -> dict[str, Any]:
    who = created_by.name if created_by else None
    kind = "User" if created_by is None or created_by.type == "User" else "Application"
    return {
        "createdAt": _stamp(created),
        "createdBy": who,
        "createdByType": kind,
        "lastModifiedAt": _stamp(modified),
        "lastModifiedBy": who,
        "lastModifiedByType": kind,
    }


def version_resource(record: AssetVersionRecord, registry_name: str, status: AssetStatus, uri: str) -> dict[str, Any]:
    """A version as the SDK's ``ModelVersion``/``DataVersionBase`` (``uri`` from ``content_uri``)."""
    props: dict[str, Any] = {
        "description": record.description,
        "tags": dict(record.tags),
        "properties": dict(record.properties),
        "isAnonymous": False,
        "isArchived": record.archived,
        "provisioningState": _PROVISIONING[status],
        _KIND[record.type]: record.fields.get("type"),
        _CONTENT[record.type]: uri,
    }
    if record.type is AssetType.MODELS:
        props["flavors"] = record.fields.get("flavors") or {}  # the SDK cannot read a model without it
        props["jobName"] = None
        if "stage" in record.fields:
            props["stage"] = record.fields["stage"]
    return {
        "id": asset_id(registry_name, record.type, record.name, record.version),
        "name": record.version,
        "type": version_type(record.type),
        "properties": props,
        "systemData": _system_data(record.created_by, record.created_at, record.updated_at),
    }


def container_resource(
    registry_name: str, asset_type: AssetType, name: str, versions: list[AssetVersionRecord]
) -> dict[str, Any]:
    """An asset name as the SDK's ``ModelContainer``/``DataContainer``: the newest version (by registration
    time) is ``latestVersion``, and ``nextVersion`` follows it when it is a number."""
    newest = max(versions, key=lambda v: v.created_at)
    oldest = min(versions, key=lambda v: v.created_at)
    numbers = [int(v.version) for v in versions if v.version.isdigit()]
    props: dict[str, Any] = {
        "description": newest.description,
        "tags": dict(newest.tags),
        "properties": {},
        "isArchived": all(v.archived for v in versions),
        "latestVersion": newest.version,
        "nextVersion": str(max(numbers) + 1) if numbers else None,
    }
    if asset_type is AssetType.DATA:
        props["dataType"] = newest.fields.get("type")
    return {
        "id": f"azureml://registries/{registry_name}/{asset_type.value}/{name}",
        "name": name,
        "type": f"Microsoft.MachineLearningServices/registries/{asset_type.value}",
        "properties": props,
        "systemData": _system_data(oldest.created_by, oldest.created_at, newest.updated_at),
    }


def list_view(value: str | None) -> tuple[bool, bool]:
    """(active, archived) that a ``listViewType`` asks for. azure-ai-ml sends the enum's name
    (``ListViewType.ACTIVE_ONLY``, a bug of the SDK) as well as ARM's ``ActiveOnly``: both are read."""
    key = re.sub(r"[^a-z]", "", (value or "ActiveOnly").rsplit(".", 1)[-1].lower())
    found = _LIST_VIEWS.get(key)
    if found is None:
        raise InvalidSpec(
            f"listViewType '{shorten(value)}' is not one of ActiveOnly, ArchivedOnly, All",
            [FieldError("listViewType", "ActiveOnly, ArchivedOnly or All")],
        )
    return found


def ordered(versions: list[AssetVersionRecord], order_by: str | None, top: str | None) -> list[AssetVersionRecord]:
    """``$orderBy=createdtime desc|asc`` and ``$top`` of a versions list (the SDK asks for the newest one)."""
    found = sorted(versions, key=lambda v: v.created_at)
    if order_by and order_by.strip().lower().endswith("desc"):
        found.reverse()
    if top is not None:
        if not top.isdigit():
            raise InvalidSpec("$top must be a number", [FieldError("$top", "a non-negative integer")])
        found = found[: int(top)]
    return found
