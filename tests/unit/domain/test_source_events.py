"""What external sources' events say: the pushed image, the dropped asset.yml and the folder it describes."""

from __future__ import annotations

import pytest

from shared.domain.asset_spec import AssetType
from shared.domain.errors import InvalidSpec
from shared.domain.events import BLOB_CREATED, IMAGE_PUSHED, Event
from shared.domain.rule_sources import RuleSource, SourceKind
from shared.domain.source_events import NotUsable, dropped_manifest, manifest_definition, pushed_image

ACR = "/subscriptions/0/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/build"
ACCOUNT = "/subscriptions/0/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/drop"
DIGEST = "sha256:" + "a" * 64


def push(target: dict[str, object], host: str = "Build.azurecr.io") -> Event:
    data = {"action": "push", "target": target, "request": {"host": host}}
    return Event("e1", IMAGE_PUSHED, "x", ACR, "t", data)


def test_an_image_push_names_the_repository_tag_digest_and_login_server():
    image = pushed_image(push({"repository": "Team/Scorer", "tag": "1.2", "digest": DIGEST}))
    assert (image.login_server, image.repository, image.tag, image.name) == (
        "build.azurecr.io",
        "team/scorer",
        "1.2",
        "scorer",
    )
    assert image.reference == "build.azurecr.io/team/scorer:1.2"
    assert image.import_source() == {"resourceId": ACR, "sourceImage": f"team/scorer@{DIGEST}"}


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ({"repository": "a", "digest": DIGEST}, "UntaggedImage"),
        ({"repository": "a", "tag": "1", "digest": "md5:1"}, "MalformedImagePush"),
        ({"tag": "1", "digest": DIGEST}, "MalformedImagePush"),
    ],
)
def test_a_push_that_cannot_become_a_version_says_why(target: dict[str, object], code: str):
    with pytest.raises(NotUsable) as caught:
        pushed_image(push(target))
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://drop.blob.core.windows.net/drops/in/a%20b/asset.yml", "https://drop.blob.core.windows.net/"),
        ("https://127.0.0.1:9443/drop/drops/in/a%20b/asset.yml", "https://127.0.0.1:9443/drop/"),  # path style
    ],
)
def test_a_blob_created_gives_the_account_endpoint_from_its_url(url: str, endpoint: str):
    event = Event(
        "e", BLOB_CREATED, "/blobServices/default/containers/drops/blobs/in/a b/asset.yml", ACCOUNT, "t", {"url": url}
    )
    dropped = dropped_manifest(event)
    assert (dropped.endpoint, dropped.container, dropped.blob, dropped.folder) == (
        endpoint,
        "drops",
        "in/a b/asset.yml",
        "in/a b/",
    )


def test_the_asset_yml_type_comes_from_its_schema_or_the_rules_one_type_and_its_content_stays_under_it():
    model = b"$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\nname: m\nversion: 1\npath: ./w\n"
    definition, content = manifest_definition(model, "in/m/", ())
    assert (definition.type, definition.name, content) == (AssetType.MODELS, "m", "in/m/w")
    data = b"name: d\nversion: 2\ntype: uri_folder\npath: .\n"
    definition, content = manifest_definition(data, "in/d/", (AssetType.DATA,))
    assert (definition.type, content) == (AssetType.DATA, "in/d")
    env = b"$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
    env += b"name: e\nversion: 1\nimage: ubuntu\n"
    assert manifest_definition(env, "", ())[1] is None
    with pytest.raises(InvalidSpec, match="single type"):
        manifest_definition(data, "in/d/", ())
    with pytest.raises(InvalidSpec, match="under its own folder"):
        manifest_definition(model.replace(b"./w", b"../other"), "in/m/", ())
    with pytest.raises(InvalidSpec, match="relative"):
        manifest_definition(model.replace(b"./w", b"https://elsewhere/x"), "in/m/", ())


def test_a_storage_source_takes_only_asset_yml_blobs_of_its_account_container_and_prefix():
    source = RuleSource(SourceKind.STORAGE, resource_id=ACCOUNT, container="drops", prefix="in/")
    assert source.takes_blob(ACCOUNT.upper(), "drops", "in/x/asset.yml")
    assert source.takes_blob(ACCOUNT, "drops", "in/asset.yml")
    assert not source.takes_blob(ACCOUNT, "drops", "in/x/notasset.yml")
    assert not source.takes_blob(ACCOUNT, "drops", "out/x/asset.yml")
    assert not source.takes_blob(ACCOUNT, "other", "in/x/asset.yml")
    acr = RuleSource(SourceKind.ACR, resource_id=ACR, repository="team/*")
    assert acr.takes_image(ACR, "team/a") and not acr.takes_image(ACR, "other/a")
    assert RuleSource.from_dict(acr.to_dict()) == acr and RuleSource.from_dict(source.to_dict()) == source
