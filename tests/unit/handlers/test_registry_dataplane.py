"""The registry data plane over fakes, in the order azure-ai-ml 1.35.2 calls it: discovery, the newest-version
list (200 and empty for a new name), a tempdatarefs SAS (200 even when the version exists), the upload, the
version PUT as an LRO (absolute status link, Retry-After), the final GET, lists, and the datarefs SAS."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handlers.http_api import create_api
from shared.bootstrap import arm_site
from shared.domain.access import Principal
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World

BASE = "https://regctl.example"
API = "?api-version=2021-10-01-dataplanepreview"
FILES = {"clf/MLmodel": b"flavors: {}\n", "clf/weights/a.bin": b"\x07" * 4096}


class Plane:
    def __init__(self) -> None:
        self.world = World()
        self.site = arm_site(self.world.container.settings)
        world = self.world
        app = create_api(
            lambda: world.api.service,
            lambda: {"store": True},
            world.gate,
            assets=lambda: world.assets,
            arm=lambda: self.site,
        )
        self.client = TestClient(app, base_url=BASE, headers={"Authorization": f"Bearer {OWNER_TOKEN}"})
        assert self.client.post("/api/registries", json=DEMO1).status_code == 202
        world.drain()

    def discover(self, **kw: Any) -> Any:
        return self.client.get(
            "/api/arm/registrymanagement/v1.0/registries/DemoRegistry1/discovery?api-version=v1.0", **kw
        )

    def registry(self) -> str:
        found = self.discover().json()
        base = found["primaryRegionResourceProviderUri"].removeprefix(BASE)
        return (
            f"{base}mferp/managementfrontend/subscriptions/{found['subscriptionId']}/resourceGroups/"
            f"{found['resourceGroup']}/providers/Microsoft.MachineLearningServices/registries/{found['registryName']}"
        )

    def upload(self, kind: str, name: str, version: str, files: dict[str, bytes], **kw: Any) -> Any:
        body = {
            "assetId": f"azureml://registries/DemoRegistry1/{kind}/{name}/versions/{version}",
            "temporaryDataReferenceType": "TemporaryBlobReference",
        }
        answer = self.client.put(f"{self.registry()}/tempdatarefs/{name}/versions/{version}{API}", json=body, **kw)
        if answer.status_code != 200:
            return answer
        sas = answer.json()["blobReferenceForConsumption"]["credential"]["sasUri"]
        container_url = sas.split("?")[0]
        endpoint, _, container = container_url.rpartition("/")
        for path, data in files.items():
            self.world.data.put(endpoint + "/", container, path, data)
        return container_url

    def model(self, name: str = "clf", version: str = "1", files: dict[str, bytes] = FILES, **props: Any) -> Any:
        container_url = self.upload("models", name, version, files)
        body = {
            "properties": {
                "description": "a classifier",
                "tags": {"t": "1"},
                "properties": {},
                "isAnonymous": False,
                "modelType": "custom_model",
                "modelUri": f"{container_url}/clf",
                "system_metadata": None,
                **props,
            }
        }
        return self.client.put(f"{self.registry()}/models/{name}/versions/{version}{API}", json=body)


@pytest.fixture
def plane() -> Plane:
    return Plane()


def test_discovery_points_the_sdk_back_at_regctls_arm_root(plane):
    found = plane.discover().json()
    assert found["registryName"] == "DemoRegistry1" and found["primaryRegion"] == "eastus"
    assert found["regions"] == ["eastus", "eastus2", "westus"]
    assert found["primaryRegionResourceProviderUri"] == f"{BASE}/api/arm/"
    assert found["subscriptionId"] == plane.site.subscription_id
    assert found["resourceGroup"] == plane.site.default_group


def test_a_model_is_registered_as_an_lro_and_read_back_in_arms_asset_shape(plane):
    newest = plane.client.get(f"{plane.registry()}/models/clf/versions{API}&$orderBy=createdtime desc&$top=1")
    assert newest.status_code == 200 and newest.json() == {"value": []}

    put = plane.model()
    assert put.status_code == 201, put.text
    status_url = put.headers["Azure-AsyncOperation"]
    assert status_url.startswith(f"{BASE}/api/arm/mferp/managementfrontend/subscriptions/")
    assert put.headers["Retry-After"] == "1"
    assert put.json()["properties"]["provisioningState"] == "Creating"
    assert plane.client.get(status_url.removeprefix(BASE)).json()["status"] == "InProgress"

    plane.world.drain(5)
    assert plane.client.get(status_url.removeprefix(BASE)).json()["status"] == "Succeeded"
    got = plane.client.get(f"{plane.registry()}/models/clf/versions/1{API}").json()
    assert got["id"] == "azureml://registries/DemoRegistry1/models/clf/versions/1"
    assert got["name"] == "1" and got["type"] == "Microsoft.MachineLearningServices/registries/models/versions"
    props = got["properties"]
    assert props["provisioningState"] == "Succeeded" and props["modelType"] == "custom_model"
    assert props["flavors"] == {} and props["tags"] == {"t": "1"} and props["description"] == "a classifier"
    assert props["modelUri"].endswith("/assets/models/clf/1/") and ".blob." in props["modelUri"]

    # the same asset /api shows, with the manifest of what was uploaded under the folder
    native = plane.client.get("/api/registries/DemoRegistry1/models/clf/versions/1").json()
    assert native["status"] == "Available" and native["fileCount"] == 2 and native["type"] == "custom_model"

    container = plane.client.get(f"{plane.registry()}/models/clf{API}").json()
    assert container["properties"]["latestVersion"] == "1" and container["properties"]["nextVersion"] == "2"
    listed = plane.client.get(f"{plane.registry()}/models{API}&listViewType=ListViewType.ACTIVE_ONLY").json()
    assert [c["name"] for c in listed["value"]] == ["clf"]

    ref = plane.client.post(
        f"{plane.registry()}/datarefs/clf/versions/1{API}",
        json={"assetId": "azureml://registries/DemoRegistry1/models/clf/versions/1", "blobUri": props["modelUri"]},
    )
    assert ref.status_code == 200, ref.text
    credential = ref.json()["blobReferenceForConsumption"]["credential"]
    assert credential["credentialType"] == "SAS" and credential["sasUri"].split("?")[0].endswith("/assets")


def test_tempdatarefs_answers_a_fresh_sas_for_an_existing_version_and_the_put_decides(plane):
    assert plane.model().status_code == 201
    plane.world.drain(5)
    again = plane.model()
    assert again.status_code == 200 and "Azure-AsyncOperation" not in again.headers
    other = plane.model(files={"clf/MLmodel": b"other\n"})
    assert other.status_code == 409
    error = other.json()["error"]
    assert error["code"] == "Conflict" and error["details"][0]["code"] == "AssetVersionImmutable"


def test_a_uri_file_data_asset_is_its_one_file(plane):
    container_url = plane.upload("data", "rows", "3", {"rows.csv": b"a,b\n1,2\n"})
    body = {"properties": {"dataType": "uri_file", "dataUri": f"{container_url}/rows.csv", "isAnonymous": False}}
    put = plane.client.put(f"{plane.registry()}/data/rows/versions/3{API}", json=body)
    assert put.status_code == 201, put.text
    plane.world.drain(5)
    got = plane.client.get(f"{plane.registry()}/data/rows/versions/3{API}").json()["properties"]
    assert got["dataType"] == "uri_file" and got["dataUri"].endswith("/assets/data/rows/3/rows.csv")
    listed = plane.client.get(f"{plane.registry()}/data{API}").json()["value"]
    assert [(c["name"], c["properties"]["dataType"]) for c in listed] == [("rows", "uri_file")]


@pytest.mark.parametrize(
    ("props", "target"),
    [
        ({"modelUri": "https://elsewhere.example/c/clf"}, "properties.modelUri"),
        ({"modelType": "onnx"}, "properties.modelType"),
        ({"jobName": "run-1"}, "properties.jobName"),
        ({"isAnonymous": True}, "properties.isAnonymous"),
    ],
)
def test_refused_versions_answer_arms_envelope_with_the_wire_field_and_store_nothing(plane, props, target):
    answer = plane.model(**props)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "InvalidRequestContent" and error["target"] == target
    assert plane.client.get(f"{plane.registry()}/models/clf/versions/1{API}").status_code == 404


def test_unknown_versions_names_and_api_versions_are_arms_errors(plane):
    missing = plane.client.get(f"{plane.registry()}/models/clf/versions/9{API}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"
    assert plane.client.get(f"{plane.registry()}/models/clf{API}").status_code == 404
    wrong = plane.client.get(f"{plane.registry()}/models/clf/versions/9?api-version=2022-10-01-preview")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "InvalidApiVersionParameter"
    elsewhere = plane.registry().replace("/resourceGroups/regctl/", "/resourceGroups/other/")
    assert plane.client.get(f"{elsewhere}/models{API}").json()["error"]["code"] == "ResourceNotFound"


def test_a_reader_reads_and_downloads_but_cannot_upload(plane):
    assert plane.model().status_code == 201
    plane.world.drain(5)
    principal = Principal(str(uuid.uuid4()), "reader@example.com")
    body = {
        "scope": "/registries/demoregistry1",
        "principalId": principal.id,
        "principalType": "User",
        "roleDefinitionId": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    }
    assert plane.client.put(f"/api/roleAssignments/{uuid.uuid4()}", json=body).status_code in (200, 201)
    reader = {"Authorization": f"Bearer {plane.world.authenticator.token_for(principal)}"}
    assert plane.discover(headers=reader).status_code == 200
    assert plane.client.get(f"{plane.registry()}/models/clf/versions/1{API}", headers=reader).status_code == 200
    refused = plane.upload("models", "clf", "2", FILES, headers=reader)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AuthorizationFailed"
