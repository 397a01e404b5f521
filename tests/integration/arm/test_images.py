# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional; both are noise in tests that assert on real responses.
"""Images of the simulated registries over the wire: the push stand-in (``SandboxControl.push_image`` /
``delete_image``) and importImage from another registry by its resource id, through the real SDK."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from sandbox.arm.control import ControlError, SandboxControl
from tests.integration.arm.helpers import Clients, unique

pytestmark = pytest.mark.integration
DIGEST = "sha256:" + "0123456789abcdef" * 4


def registry(clients: Clients, rg: str) -> tuple[str, str]:
    name = unique("reg")
    made = clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Premium"}}).result()
    return name, str(made.id)


def test_a_pushed_image_is_listed_with_its_digest_and_a_deleted_one_is_gone(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    name, _ = registry(clients, rg)

    pushed = control.push_image(name, "team/app", "1.0", digest=DIGEST, size=2048)
    other = control.push_image(name, "team/app", "2.0")

    assert pushed == {
        "repository": "team/app",
        "tag": "1.0",
        "digest": DIGEST,
        "size": 2048,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    }
    images = control.images(name)
    assert images["images"] == ["team/app:1.0", "team/app:2.0"]
    assert images["digests"] == {"team/app:1.0": DIGEST, "team/app:2.0": other["digest"]}
    assert control.delete_image(name, "team/app", "1.0")["digest"] == DIGEST
    assert control.images(name)["images"] == ["team/app:2.0"]
    with pytest.raises(ControlError, match="404"):
        control.delete_image(name, "team/app", "1.0")
    with pytest.raises(ControlError, match="404"):
        control.push_image("nosuchregistry", "team/app", "1.0")
    with pytest.raises(ControlError, match=r"400.*'digest'"):
        control.push_image(name, "team/app", "1.0", digest="md5:abc")


def test_import_by_resource_id_takes_the_source_digest_and_fails_for_an_image_it_lacks(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    source, source_id = registry(clients, rg)
    target, _ = registry(clients, rg)
    control.push_image(source, "team/app", "1.0", digest=DIGEST)

    result = clients.acr.registries.begin_import_image(
        rg,
        target,
        {"source": {"resourceId": source_id, "sourceImage": "team/app:1.0"}, "targetTags": ["environments/app:1"]},
    ).result()
    with pytest.raises(HttpResponseError) as missing:
        clients.acr.registries.begin_import_image(
            rg,
            target,
            {"source": {"resourceId": source_id, "sourceImage": "team/app:9"}, "targetTags": ["environments/app:9"]},
        ).result()

    assert result is None
    assert control.images(target)["digests"] == {"environments/app:1": DIGEST}
    assert missing.value.error is not None and missing.value.error.code == "InvalidParameters"
    assert "Unable to find manifest digest" in str(missing.value.error.message)
