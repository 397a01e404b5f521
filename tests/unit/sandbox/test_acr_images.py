"""Images in the simulated registries, in-process: the push stand-in of the control surface, its deletes,
importImage by a source registry's resource id, and what they announce to the image hooks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.arm.acr_images import ImageChanged, made_up_manifest, parse_image_ref
from sandbox.arm.app import ArmApp
from sandbox.arm.config import Settings
from sandbox.arm.http import Request
from sandbox.arm.state import DOCKER_MANIFEST_V2

SUB = "00000000-0000-4000-8000-0000000000a1"
DIGEST = "sha256:" + "ab" * 32


class World:
    """An ``ArmApp`` whose operations finish at once, driven with plain requests; announcements recorded."""

    def __init__(self) -> None:
        self.app = ArmApp(Settings(time_scale=0.0))
        self.changes: list[ImageChanged] = []
        self.app.image_hooks.subscribe(self.changes.append)
        self.arm("PUT", f"/subscriptions/{SUB}/resourcegroups/rg", {"location": "eastus"})

    def arm(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        response = self.app.handle_arm(_request(method, path, body, "api-version=2025-11-01"))
        assert response is not None
        return response.status, json.loads(response.body) if response.body else None

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        response = self.app.control.handle(_request(method, f"/_sandbox/{path}", body))
        return response.status, json.loads(response.body) if response.body else None

    def registry(self, name: str) -> str:
        path = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/{name}"
        status, _ = self.arm("PUT", path, {"location": "eastus", "sku": {"name": "Premium"}})
        assert status == 201
        self.arm("GET", path)  # settles the create
        return path

    def import_image(self, target: str, body: dict[str, Any]) -> tuple[str, Any]:
        """Run an import to its end: its outcome and failure."""
        status, _ = self.arm("POST", f"{target}/importImage", body)
        assert status == 202
        op = next(o for o in self.app.store.operations.values() if o.kind.value == "import_image" and not o.done)
        self.arm("GET", f"/subscriptions/{SUB}/resourcegroups")  # settles the import
        assert op.done
        return op.outcome.value if op.outcome else "", op.failure


def _request(method: str, path: str, body: dict[str, Any] | None, query: str = "") -> Request:
    return Request(
        method=method,
        raw_path=path,
        query_string=query,
        headers={"authorization": "Bearer t", "user-agent": "pytest-agent"},
        body=json.dumps(body).encode() if body is not None else b"",
        base_url="https://127.0.0.1:8443",
    )


@pytest.fixture
def world() -> World:
    return World()


def test_a_push_records_the_tag_with_its_manifest_and_announces_it(world: World) -> None:
    source = world.registry("teambuilds")

    status, pushed = world.control("POST", "acr/TeamBuilds/push", {"repository": "team/app", "tag": "1.0"})
    _, again = world.control(
        "POST", "acr/teambuilds/push", {"repository": "team/app", "tag": "2.0", "digest": DIGEST, "size": 7}
    )

    assert status == 200
    assert set(pushed) == {"repository", "tag", "digest", "size", "mediaType"}
    assert pushed["digest"].startswith("sha256:") and len(pushed["digest"]) == 71 and pushed["digest"] != DIGEST
    assert pushed["mediaType"] == DOCKER_MANIFEST_V2 and pushed["size"] == 1152
    assert again == {
        "repository": "team/app",
        "tag": "2.0",
        "digest": DIGEST,
        "size": 7,
        "mediaType": DOCKER_MANIFEST_V2,
    }
    _, images = world.control("GET", "registries/teambuilds/images")
    assert images["images"] == ["team/app:1.0", "team/app:2.0"] and images["repositories"] == ["team/app"]
    assert images["digests"] == {"team/app:1.0": pushed["digest"], "team/app:2.0": DIGEST}
    first = world.changes[0]
    assert (first.action, first.registry, first.registry_id, first.repository, first.tag) == (
        "push",
        "teambuilds",
        source,
        "team/app",
        "1.0",
    )
    assert first.login_server == "teambuilds.azurecr.io" and first.user_agent == "pytest-agent"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tag": "1"}, "'repository'"),
        ({"repository": "Team/App", "tag": "1"}, "'repository'"),
        ({"repository": "team/app", "tag": "-1"}, "'tag'"),
        ({"repository": "team/app", "tag": "1", "digest": "sha256:xyz"}, "'digest'"),
        ({"repository": "team/app", "tag": "1", "size": -1}, "'size'"),
        ({"repository": "team/app", "tag": "1", "mediaType": ""}, "'mediaType'"),
        ({"repository": "team/app", "tag": "1", "colour": "red"}, "unknown keys"),
    ],
)
def test_a_push_with_a_bad_field_is_400_naming_it(world: World, body: dict[str, Any], field: str) -> None:
    world.registry("teambuilds")

    status, answer = world.control("POST", "acr/teambuilds/push", body)

    assert status == 400 and field in answer["error"]["message"]
    assert not world.changes


def test_push_and_delete_on_an_unknown_registry_or_tag_are_404(world: World) -> None:
    world.registry("teambuilds")

    assert world.control("POST", "acr/nosuch/push", {"repository": "a", "tag": "1"})[0] == 404
    assert world.control("DELETE", "acr/nosuch/images/a:1")[0] == 404
    assert world.control("DELETE", "acr/teambuilds/images/a:1")[0] == 404
    assert world.control("GET", "acr/teambuilds/push")[0] == 405
    assert world.control("DELETE", "acr/teambuilds/images/nocolon")[0] == 400


def test_a_delete_removes_the_tag_then_the_empty_repository_and_announces_it(world: World) -> None:
    world.registry("teambuilds")
    world.control("POST", "acr/teambuilds/push", {"repository": "team/app", "tag": "1", "digest": DIGEST})
    world.control("POST", "acr/teambuilds/push", {"repository": "team/app", "tag": "2"})

    status, removed = world.control("DELETE", "acr/teambuilds/images/team/app:1")

    assert status == 200 and removed["digest"] == DIGEST and removed["tag"] == "1"
    assert world.control("GET", "registries/teambuilds/images")[1]["images"] == ["team/app:2"]
    world.control("DELETE", "acr/teambuilds/images/team/app:2")
    assert world.control("GET", "registries/teambuilds/images")[1]["repositories"] == []
    changes = [(c.action, c.tag) for c in world.changes]
    assert changes == [("push", "1"), ("push", "2"), ("delete", "1"), ("delete", "2")]
    assert world.changes[2].manifest.digest == DIGEST


def test_an_import_by_resource_id_copies_the_source_digest_and_announces_each_target_tag(world: World) -> None:
    source = world.registry("teambuilds")
    target = world.registry("regctlacr")
    world.control("POST", "acr/teambuilds/push", {"repository": "team/app", "tag": "1.0", "digest": DIGEST})
    world.changes.clear()

    outcome, _ = world.import_image(
        target,
        {"source": {"resourceId": source, "sourceImage": "team/app:1.0"}, "targetTags": ["app:1.0", "app:stable"]},
    )
    by_digest, _ = world.import_image(
        target, {"source": {"resourceId": source, "sourceImage": f"team/app@{DIGEST}"}, "targetTags": ["app:d"]}
    )

    assert (outcome, by_digest) == ("Succeeded", "Succeeded")
    digests = world.control("GET", "registries/regctlacr/images")[1]["digests"]
    assert digests == {"app:1.0": DIGEST, "app:d": DIGEST, "app:stable": DIGEST}
    assert [(c.action, c.registry, c.repository, c.tag) for c in world.changes] == [
        ("push", "regctlacr", "app", "1.0"),
        ("push", "regctlacr", "app", "stable"),
        ("push", "regctlacr", "app", "d"),
    ]


@pytest.mark.parametrize(
    ("source_image", "message"),
    [
        ("team/app:9.9", "Unable to find manifest digest. Repo: team/app Tag: 9.9"),
        ("other/app:1.0", "Unable to find manifest digest. Repo: other/app Tag: 1.0"),
        ("team/app@sha256:" + "cd" * 32, "Manifest: sha256:cdcd"),
    ],
)
def test_an_import_of_an_image_the_source_registry_lacks_fails(world: World, source_image: str, message: str) -> None:
    source = world.registry("teambuilds")
    target = world.registry("regctlacr")
    world.control("POST", "acr/teambuilds/push", {"repository": "team/app", "tag": "1.0", "digest": DIGEST})
    world.changes.clear()

    outcome, failure = world.import_image(
        target, {"source": {"resourceId": source, "sourceImage": source_image}, "targetTags": ["app:1"]}
    )

    assert outcome == "Failed" and failure.code == "InvalidParameters" and message in failure.message
    assert world.control("GET", "registries/regctlacr/images")[1]["images"] == []
    assert not world.changes


def test_an_import_from_a_registry_that_does_not_exist_here_fails(world: World) -> None:
    target = world.registry("regctlacr")
    missing = target.rsplit("/", 1)[0] + "/nosuchregistry"

    outcome, failure = world.import_image(target, {"source": {"resourceId": missing, "sourceImage": "a:1"}})

    assert outcome == "Failed" and failure.code == "InvalidParameters" and "could not be found" in failure.message


def test_an_import_from_a_registry_uri_gets_a_made_up_digest_stable_for_the_same_source(world: World) -> None:
    target = world.registry("regctlacr")
    source = {"registryUri": "docker.io", "sourceImage": "library/busybox:1.36"}

    world.import_image(target, {"source": source, "targetTags": ["busybox:a"]})
    world.import_image(target, {"source": source, "targetTags": ["busybox:b"]})
    world.import_image(target, {"source": {"sourceImage": f"library/busybox@{DIGEST}"}, "targetTags": ["busybox:c"]})

    digests = world.control("GET", "registries/regctlacr/images")[1]["digests"]
    assert digests["busybox:a"] == digests["busybox:b"] == made_up_manifest("docker.io/library/busybox:1.36").digest
    assert digests["busybox:c"] == DIGEST


def test_image_references_parse_into_repository_tag_and_digest() -> None:
    assert parse_image_ref("Team/App:1.0") == ("team/app", "1.0", None)
    assert parse_image_ref("team/app") == ("team/app", "latest", None)
    assert parse_image_ref(f"team/app@{DIGEST}") == ("team/app", None, DIGEST)
    assert parse_image_ref("host:5000/team/app") == ("host:5000/team/app", "latest", None)
