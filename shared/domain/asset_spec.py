"""Asset definitions (pure): the YAML of ``az ml {model|data|component|environment} create``, checked.

An asset *version* is immutable content (its files, named by a manifest) plus the fields that say what the
content is (a model's type, a data asset's type, a component's spec, an environment's image). Only
``description``, ``tags`` and ``isArchived`` may change after registration. ``content_fields`` are the
rest, and together with the manifest they are the version's identity: registering the same name and
version again with the same identity is a no-op, with another one ``AssetVersionImmutable``.

Where a YAML names local content (``path``, ``code``, ``conda_file``), the HTTP API takes the ``blobUri``
of a pending upload instead (``startPendingUpload``): the CLI uploads first, then registers.
Rules: docs/assets.md (names as Azure ML takes them, versions ``[A-Za-z0-9._-]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.domain.documents import shorten
from shared.domain.errors import FieldError, InvalidSpec


class AssetType(StrEnum):
    """The asset collections of a registry, by their URL segment (and asset id segment)."""

    MODELS = "models"
    DATA = "data"
    COMPONENTS = "components"
    ENVIRONMENTS = "environments"

    @property
    def singular(self) -> str:
        return {"models": "model", "data": "data", "components": "component", "environments": "environment"}[self]

    @classmethod
    def parse(cls, value: str) -> AssetType:
        for member in cls:
            if value in (member.value, member.singular):
                return member
        raise InvalidSpec(
            f'"{shorten(value)}" is not an asset type: use models, data, components or environments',
            [FieldError("type", "one of models, data, components, environments")],
            code="InvalidAssetType",
        )


#: Asset names as Azure ML takes them: a letter or digit, then letters, digits, ``-``, ``_`` and ``.``, at
#: most 255 characters (the registry models of ``azureml`` carry dots, e.g. ``Phi-3.5-vision-instruct``).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
#: Versions: a string of ``[A-Za-z0-9._-]`` (issue 12), at most 64 characters, not ``.`` or ``..``.
VERSION_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

MODEL_TYPES = ("custom_model", "mlflow_model", "triton_model")
DATA_TYPES = ("uri_file", "uri_folder")
OS_TYPES = ("linux", "windows")
_COMMON_KEYS = frozenset({"$schema", "name", "version", "description", "tags", "properties"})
_KEYS: dict[AssetType, frozenset[str]] = {
    AssetType.MODELS: _COMMON_KEYS | {"type", "path", "flavors", "stage"},
    AssetType.DATA: _COMMON_KEYS | {"type", "path"},
    AssetType.ENVIRONMENTS: _COMMON_KEYS | {"image", "conda_file", "os_type", "build", "inference_config"},
}
#: The key that names an asset's files, per type (a component's is ``code``).
CONTENT_KEY = {
    AssetType.MODELS: "path",
    AssetType.DATA: "path",
    AssetType.COMPONENTS: "code",
    AssetType.ENVIRONMENTS: "conda_file",
}
MUTABLE_KEYS = frozenset({"description", "tags"})


def check_name(value: object, path: str = "name") -> list[FieldError]:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        return [
            FieldError(
                path,
                "must start with a letter or digit and hold only letters, digits, '-', '_' and '.' "
                "(at most 255 characters)",
            )
        ]
    return []


def check_version(value: object, path: str = "version") -> list[FieldError]:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return [FieldError(path, "must be a string of letters, digits, '.', '_' and '-'")]
    text = str(value)
    if not VERSION_RE.fullmatch(text) or text in (".", ".."):
        return [FieldError(path, "must be 1 to 64 of letters, digits, '.', '_' and '-' (and not '.' or '..')")]
    return []


def _string_map(value: object, path: str) -> tuple[dict[str, str], list[FieldError]]:
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [FieldError(path, "must be a mapping of strings")]
    out: dict[str, str] = {}
    errors: list[FieldError] = []
    for key, raw in value.items():
        if not isinstance(key, str) or not key or len(key) > 256:
            errors.append(FieldError(f"{path}.{shorten(key)}", "keys must be 1 to 256 characters"))
        elif isinstance(raw, bool | dict | list) or raw is None:
            errors.append(FieldError(f"{path}.{shorten(key)}", "must be a string or a number"))
        else:
            out[key] = str(raw)
    return out, errors


@dataclass(frozen=True)
class AssetDefinition:
    """A checked asset version document. ``content`` is where its files are (None: no files, e.g. an
    environment from an image only); ``fields`` the other immutable fields, in wire-neutral names."""

    type: AssetType
    name: str
    version: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    content: str | None = None

    @property
    def image(self) -> str | None:
        value = self.fields.get("image")
        return value if isinstance(value, str) else None

    def identity(self) -> dict[str, Any]:
        """What makes two registrations the same content (the manifest besides)."""
        return {"type": self.type.value, "properties": self.properties, "fields": self.fields}


def _invalid(asset_type: AssetType, errors: list[FieldError]) -> InvalidSpec:
    count = len(errors)
    what = asset_type.singular
    return InvalidSpec(f"the {what} document is invalid ({count} error{'s' if count != 1 else ''})", errors)


def _check_keys(asset_type: AssetType, document: Mapping[str, Any]) -> list[FieldError]:
    if asset_type is AssetType.COMPONENTS:
        return []  # a component's spec is its own (inputs, outputs, command...): kept as given
    allowed = _KEYS[asset_type]
    return [
        FieldError(shorten(key), f"unknown field for a {asset_type.singular}; accepted: {', '.join(sorted(allowed))}")
        for key in document
        if key not in allowed
    ]


def _model_fields(doc: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    kind = doc.get("type", "custom_model")
    if kind not in MODEL_TYPES:
        errors.append(FieldError("type", f"must be one of {', '.join(MODEL_TYPES)}"))
    out: dict[str, Any] = {"type": kind}
    if "flavors" in doc:
        if not isinstance(doc["flavors"], Mapping):
            errors.append(FieldError("flavors", "must be a mapping"))
        out["flavors"] = doc["flavors"]
    if "stage" in doc:
        out["stage"] = str(doc["stage"])
    return out


def _data_fields(doc: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    kind = doc.get("type", "uri_folder")
    if kind not in DATA_TYPES:
        errors.append(FieldError("type", f"must be one of {', '.join(DATA_TYPES)} (mltable is not supported)"))
    return {"type": kind}


def _environment_fields(doc: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    if "build" in doc:
        errors.append(
            FieldError("build", "image builds from a build context are not supported; give image or conda_file")
        )
    image = doc.get("image")
    if image is not None and (not isinstance(image, str) or not image.strip() or len(image) > 512):
        errors.append(FieldError("image", "must be an image reference such as mcr.microsoft.com/repo:tag"))
    if image is None and doc.get("conda_file") is None:
        errors.append(FieldError("image", "an environment needs image, conda_file or both"))
    os_type = str(doc.get("os_type", "linux")).lower()
    if os_type not in OS_TYPES:
        errors.append(FieldError("os_type", "must be linux or windows"))
    out: dict[str, Any] = {"os_type": os_type}
    if image is not None:
        out["image"] = image
    if "inference_config" in doc:
        out["inference_config"] = doc["inference_config"]
    return out


def _component_fields(doc: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """The whole spec except what every asset has and the code location."""
    if not isinstance(doc.get("type", "command"), str):
        errors.append(FieldError("type", "must be a string such as command"))
    return {"spec": {k: v for k, v in doc.items() if k not in _COMMON_KEYS | {"code"}}}


_TYPE_FIELDS = {
    AssetType.MODELS: _model_fields,
    AssetType.DATA: _data_fields,
    AssetType.ENVIRONMENTS: _environment_fields,
    AssetType.COMPONENTS: _component_fields,
}


def parse_asset(
    asset_type: AssetType,
    document: Mapping[str, Any],
    *,
    name: str | None = None,
    version: str | None = None,
) -> AssetDefinition:
    """Check ``document`` as a ``asset_type`` version. ``name``/``version`` (from the URL) must agree with
    the document's when it gives them. Raises ``InvalidSpec`` listing every field."""
    if not isinstance(document, Mapping):
        raise _invalid(asset_type, [FieldError("", "the document must be a mapping")])
    errors = _check_keys(asset_type, document)
    doc_name = document.get("name", name)
    doc_version = document.get("version", version)
    if doc_name is None:
        errors.append(FieldError("name", "required"))
    else:
        errors += check_name(doc_name)
    if doc_version is None:
        errors.append(FieldError("version", "required: registry assets need an explicit version"))
    else:
        errors += check_version(doc_version)
    if name is not None and doc_name is not None and str(doc_name) != name:
        errors.append(FieldError("name", f'"{shorten(doc_name)}" differs from the name in the URL, "{name}"'))
    if version is not None and doc_version is not None and str(doc_version) != version:
        errors.append(FieldError("version", f'"{shorten(doc_version)}" differs from the version in the URL'))
    description = document.get("description", "")
    if not isinstance(description, str) or len(description) > 5000:
        errors.append(FieldError("description", "must be a string of at most 5000 characters"))
        description = ""
    tags, tag_errors = _string_map(document.get("tags"), "tags")
    properties, property_errors = _string_map(document.get("properties"), "properties")
    errors += tag_errors + property_errors
    fields = _TYPE_FIELDS[asset_type](document, errors)
    content = document.get(CONTENT_KEY[asset_type])
    if content is not None and (not isinstance(content, str) or not content.strip()):
        errors.append(FieldError(CONTENT_KEY[asset_type], "must be the path of the files"))
        content = None
    if content is None and asset_type in (AssetType.MODELS, AssetType.DATA):
        errors.append(FieldError("path", "required: the files of the asset"))
    if errors:
        raise _invalid(asset_type, errors)
    return AssetDefinition(asset_type, str(doc_name), str(doc_version), description, tags, properties, fields, content)


def asset_id(registry: str, asset_type: AssetType, name: str, version: str) -> str:
    """``azureml://registries/{r}/{type}/{name}/versions/{v}``: how Azure ML names a registry asset."""
    return f"azureml://registries/{registry}/{asset_type.value}/{name}/versions/{version}"


_ID_RE = re.compile(r"^azureml://registries/([^/]+)/(models|data|components|environments)/([^/]+)/versions/([^/]+)$")


def parse_asset_id(value: str) -> tuple[str, AssetType, str, str]:
    """``(registry, type, name, version)`` of an ``azureml://`` asset id; ``InvalidSpec`` otherwise."""
    matched = _ID_RE.fullmatch(value.strip())
    if matched is None:
        raise InvalidSpec(
            f'"{shorten(value)}" is not an asset id azureml://registries/{{r}}/{{type}}/{{name}}/versions/{{v}}',
            [FieldError("source", "an azureml:// asset id")],
            code="InvalidAssetId",
        )
    return matched.group(1), AssetType(matched.group(2)), matched.group(3), matched.group(4)
