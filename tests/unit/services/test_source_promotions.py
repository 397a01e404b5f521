"""Rules whose source is outside regctl's registries: an image pushed to a team's build ACR becomes an
environment version; an ``asset.yml`` dropped into a watched storage prefix registers the folder it
describes; environments promoted between registries are imported ACR to ACR by resource id."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from shared.domain.asset_records import AssetStatus
from shared.domain.asset_spec import AssetType, parse_asset
from shared.domain.errors import Forbidden, InvalidSpec
from shared.domain.events import BLOB_CREATED, IMAGE_PUSHED
from shared.domain.promotions import PromotionStatus
from shared.domain.roles import AZUREML_REGISTRY_USER, CONTRIBUTOR
from shared.services.assets import RegisterAsset
from tests.unit.services.promotion_world import ALICE, OWNER, PromotionWorld

SUB = "00000000-0000-4000-8000-00000000b11d"
BUILD_ACR = f"/subscriptions/{SUB}/resourceGroups/team-build/providers/Microsoft.ContainerRegistry/registries/teambuild"
DROP = f"/subscriptions/{SUB}/resourceGroups/team-data/providers/Microsoft.Storage/storageAccounts/teamdrop"
DROP_ENDPOINT = "https://teamdrop.blob.core.windows.net/"
PROD = ("centralus", "westus2")


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def image_pushed(repository: str, tag: str | None, image_digest: str, *, event_id: str | None = None) -> dict[str, Any]:
    target: dict[str, Any] = {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 1152}
    target |= {"digest": image_digest, "length": 1152, "repository": repository}
    if tag is not None:
        target["tag"] = tag
    return {
        "id": event_id or str(uuid.uuid4()),
        "topic": BUILD_ACR,
        "subject": f"{repository}:{tag}",
        "eventType": IMAGE_PUSHED,
        "eventTime": "2026-12-07T10:00:00Z",
        "data": {
            "id": str(uuid.uuid4()),
            "action": "push",
            "target": target,
            "request": {"id": str(uuid.uuid4()), "host": "teambuild.azurecr.io", "method": "PUT"},
        },
        "dataVersion": "1.0",
        "metadataVersion": "1",
    }


def blob_created(blob: str, etag: str = '"0x1"', *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or str(uuid.uuid4()),
        "topic": DROP,
        "subject": f"/blobServices/default/containers/drops/blobs/{blob}",
        "eventType": BLOB_CREATED,
        "eventTime": "2026-12-07T10:00:00Z",
        "data": {"api": "PutBlob", "eTag": etag, "url": f"{DROP_ENDPOINT}drops/{blob}", "blobType": "BlockBlob"},
        "dataVersion": "",
        "metadataVersion": "1",
    }


def world_with(rule_source: dict[str, Any], **extra: Any) -> PromotionWorld:
    world = PromotionWorld({"dev": ("eastus",), "prod": PROD})
    world.container.promotions.put_rule("watch", {"source": rule_source, "target": "prod", **extra}, OWNER)
    return world


def test_an_image_pushed_to_a_build_acr_becomes_an_environment_version_imported_by_resource_id():
    world = world_with({"acr": BUILD_ACR, "repository": "fraud/*"})
    pinned = digest("scorer 1.4")
    event = image_pushed("fraud/scorer", "1.4", pinned)
    for _ in range(3):  # at-least-once delivery: the same event again and again
        world.deliver_event(event)
    world.deliver_event(image_pushed("fraud/scorer", "1.4", pinned))  # the same push, another event id
    world.deliver_event(image_pushed("other/thing", "1", digest("other")))  # not under fraud/*
    world.drain()
    view = world.assets.get("prod", AssetType.ENVIRONMENTS, "scorer", "1.4")
    assert view.status is AssetStatus.AVAILABLE
    assert view.version.image == "teambuild.azurecr.io/fraud/scorer:1.4"
    assert view.version.imported == "environments/scorer:1.4"
    assert view.version.properties["promotedFrom"] == f"teambuild.azurecr.io/fraud/scorer@{pinned}"
    assert view.version.properties["imageDigest"] == pinned
    imports = [w for w in world.arm_of("prod").writes if w.startswith("import:")]
    assert imports == [
        f"import:{world.arm_of('prod').acr.name}:environments/scorer:1.4:{BUILD_ACR}/fraud/scorer@{pinned}"
    ]
    assert world.versions("prod") == ["environments:scorer:1.4"]
    assert len(world.container.promotions.list_promotions(rule="watch")) == 1


def test_the_same_tag_pushed_again_with_other_content_is_refused_as_immutable():
    world = world_with({"acr": BUILD_ACR})
    world.deliver_event(image_pushed("scorer", "2", digest("first")))
    world.drain()
    world.deliver_event(image_pushed("scorer", "2", digest("second")))
    world.drain()
    statuses = sorted((p.status, p.error_code) for p in world.container.promotions.list_promotions())
    assert statuses == [(PromotionStatus.FAILED, "AssetVersionImmutable"), (PromotionStatus.SUCCEEDED, "")]
    assert world.versions("prod") == ["environments:scorer:2"]


def test_an_untagged_push_of_a_watched_acr_is_dead_lettered_with_its_reason_and_nothing_is_made():
    world = world_with({"acr": BUILD_ACR})
    outcome = world.deliver_event(image_pushed("scorer", None, digest("x")))
    assert outcome.what == "dead-lettered" and outcome.detail.startswith("UntaggedImage")
    assert world.container.promotions.dead_letters()[0]["reason"].startswith("UntaggedImage")
    assert world.versions("prod") == []


def test_an_image_push_of_an_acr_no_rule_watches_is_ignored():
    world = world_with({"acr": BUILD_ACR.replace("teambuild", "otheracr")})
    outcome = world.deliver_event(image_pushed("scorer", "1", digest("x")))
    assert outcome.what == "handled" and outcome.detail == "0 promotion(s)"
    assert world.container.promotions.list_promotions() == []


def drop_folder(world: PromotionWorld, folder: str, manifest: str, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        world.data.put(DROP_ENDPOINT, "drops", folder + path, data)
    world.data.put(DROP_ENDPOINT, "drops", folder + "asset.yml", manifest.encode())


MODEL_YML = """$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json
name: fraud
version: "7"
type: custom_model
path: ./model
tags: {stage: production}
"""


def test_an_asset_yml_dropped_under_a_watched_prefix_registers_the_folder_it_describes():
    world = world_with(
        {"storage": DROP, "container": "drops", "prefix": "incoming/"}, filter={"tags": {"stage": "production"}}
    )
    files = {"model/MLmodel": b"flavors: {}\n", "model/weights.bin": b"\x01" * 4096}
    drop_folder(world, "incoming/fraud/", MODEL_YML, files)
    event = blob_created("incoming/fraud/asset.yml")
    world.deliver_event(event)
    world.deliver_event(event)  # a duplicate
    world.deliver_event(blob_created("incoming/fraud/model/weights.bin"))  # not an asset.yml: ignored
    world.deliver_event(blob_created("elsewhere/fraud/asset.yml"))  # outside the prefix
    world.drain()
    view = world.assets.get("prod", AssetType.MODELS, "fraud", "7")
    assert view.status is AssetStatus.AVAILABLE
    assert sorted(f.path for f in view.version.files) == ["MLmodel", "weights.bin"]
    assert view.version.properties["promotedFrom"] == f"{DROP_ENDPOINT}drops/incoming/fraud/asset.yml"
    for region in PROD:
        assert world.copies("prod", region, "models/fraud/7/") == {
            "MLmodel": b"flavors: {}\n",
            "weights.bin": b"\x01" * 4096,
        }
    assert len(world.container.promotions.list_promotions()) == 1


def test_an_invalid_asset_yml_is_shown_on_the_rule_and_registers_nothing():
    world = world_with({"storage": DROP, "container": "drops"})
    drop_folder(world, "bad/", "name: fraud\nversion: 1\npath: ../../escape\n$schema: model.schema.json\n", {})
    world.deliver_event(blob_created("bad/asset.yml"))
    world.drain()
    error = world.container.promotions.get_rule("watch").last_error
    assert error is not None and error["code"] == "InvalidAssetManifest" and "under its own folder" in error["message"]
    assert world.versions("prod") == []


def test_an_external_source_needs_registries_write_on_the_target_and_a_registry_source_does_not():
    world = PromotionWorld({"dev": ("eastus",), "prod": PROD})
    world.grant(ALICE, None, AZUREML_REGISTRY_USER.id)  # assets read and write everywhere, no registries/write
    world.container.promotions.put_rule("from-dev", {"source": "dev", "target": "prod"}, ALICE)
    with pytest.raises(Forbidden, match="registries/write"):
        world.container.promotions.put_rule("from-acr", {"source": {"acr": BUILD_ACR}, "target": "prod"}, ALICE)
    world.grant(ALICE, "prod", CONTRIBUTOR.id)
    world.container.promotions.put_rule("from-acr", {"source": {"acr": BUILD_ACR}, "target": "prod"}, ALICE)
    assert world.container.promotions.get_rule("from-acr").source.resource_id == BUILD_ACR


def test_a_rule_source_names_exactly_one_form_and_each_field_is_checked():
    world = PromotionWorld({"dev": ("eastus",), "prod": PROD})
    with pytest.raises(InvalidSpec) as caught:
        world.container.promotions.put_rule(
            "bad",
            {
                "source": {"storage": "/subscriptions/x/resourceGroups/g", "container": "assets", "prefix": "../x"},
                "target": "prod",
            },
            OWNER,
        )
    assert {e.path for e in caught.value.errors} == {"source.storage", "source.container", "source.prefix"}
    with pytest.raises(InvalidSpec) as caught:
        world.container.promotions.put_rule(
            "bad", {"source": {"registry": "dev", "acr": BUILD_ACR}, "target": "prod"}, OWNER
        )
    assert [e.path for e in caught.value.errors] == ["source"]
    with pytest.raises(InvalidSpec) as caught:
        world.container.promotions.put_rule(
            "bad", {"source": {"acr": BUILD_ACR}, "filter": {"types": ["models"]}, "target": "prod"}, OWNER
        )
    assert [e.path for e in caught.value.errors] == ["filter.types"]


def test_an_environment_promoted_between_registries_is_imported_acr_to_acr_by_resource_id():
    world = PromotionWorld({"dev": ("eastus",), "prod": PROD})
    world.container.promotions.put_rule("envs", {"source": "dev", "target": "prod"}, OWNER)
    definition = parse_asset(AssetType.ENVIRONMENTS, {"name": "serve", "version": "1", "image": "ubuntu:22.04"})
    world.assets.register(RegisterAsset("dev", definition, caller=OWNER))
    world.drain()
    world.pump()
    view = world.assets.get("prod", AssetType.ENVIRONMENTS, "serve", "1")
    assert view.status is AssetStatus.AVAILABLE
    dev_acr = world.arm_of("dev").acr
    prod_imports = [w for w in world.arm_of("prod").writes if w.startswith("import:")]
    assert prod_imports == [
        f"import:{world.arm_of('prod').acr.name}:environments/serve:1:{dev_acr.id}/environments/serve:1"
    ]
