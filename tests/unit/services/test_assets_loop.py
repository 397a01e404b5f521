"""Asset versions through the loop: a registration copies every file to every region and verifies it
there; the ledger follows; the same content again is no new work, other content is refused; deleting
removes every copy; a region added is backfilled; a copy lost by hand is restored by the region sync;
asynchronous copies are polled; faults are retried."""

from __future__ import annotations

import pytest

from shared.domain.asset_records import AssetStatus, CopyState
from shared.domain.asset_spec import AssetType, parse_asset
from shared.domain.errors import Conflict, InvalidSpec, NotFound
from shared.domain.manifest import ASSET_CONTAINER, FileEntry
from shared.domain.records import OperationKind, OperationStatus
from shared.services.assets import RegisterAsset, VersionView
from tests.unit.services.fake_assets import md5_of
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World

REGIONS = ("eastus", "eastus2", "westus")
FILES = {"MLmodel": b"flavors: {}\n", "model.pkl": b"\x00" * 4096, "data/weights.bin": bytes(range(256)) * 64}


def converged_world(**kwargs: object) -> World:
    world = World(**kwargs)  # type: ignore[arg-type]
    world.api.create(DEMO1)
    world.drain()
    return world


def upload(world: World, files: dict[str, bytes] = FILES, *, version: str = "1", name: str = "clf") -> str:
    """Start a pending upload and put ``files`` in it as the CLI would; the content URI to register."""
    started = world.assets.start_upload("DemoRegistry1", AssetType.MODELS, name, version)
    blob_uri = started["blobReferenceForConsumption"]["blobUri"]
    endpoint, _, container = blob_uri.rpartition("/")
    for path, data in files.items():
        world.data.put(endpoint + "/", container, path, data)
    return str(blob_uri)


def register(world: World, content: str, *, version: str = "1", name: str = "clf", **extra: object) -> VersionView:
    document = {"name": name, "version": version, "path": content, "type": "custom_model", **extra}
    definition = parse_asset(AssetType.MODELS, document)
    world.assets.register(RegisterAsset("DemoRegistry1", definition))
    world.drain()
    return world.assets.get("DemoRegistry1", AssetType.MODELS, name, version)


def copies_in(world: World, region: str, prefix: str = "models/clf/1/") -> dict[str, bytes]:
    record = world.store.get_registry("demoregistry1")
    assert record is not None
    account = next(a for a in record.resources["storage_accounts"] if a["region"] == region)
    blobs = world.data.accounts.get(account["blob_endpoint"], {}).get(ASSET_CONTAINER, {})
    return {n.removeprefix(prefix): b.data for n, b in blobs.items() if n.startswith(prefix)}


def test_a_registered_version_is_copied_to_every_region_verified_and_available():
    world = converged_world()
    view = register(world, upload(world))
    assert view.status is AssetStatus.AVAILABLE
    assert set(view.version.ledger) == set(REGIONS)
    for region in REGIONS:
        copy = view.version.ledger[region]
        assert copy.state is CopyState.REPLICATED
        assert (copy.files, copy.bytes) == (3, sum(len(d) for d in FILES.values()))
        assert copy.uri.endswith("/assets/models/clf/1/")
        assert copies_in(world, region) == FILES
    assert view.version.files == sorted(FileEntry(p, len(d), md5_of(d)) for p, d in FILES.items())
    assert view.operation is not None and view.operation.status is OperationStatus.SUCCEEDED
    assert view.operation.kind is OperationKind.REGISTER
    assert view.version.upload == ""  # the pending upload is gone once every copy is verified
    assert not any(c.startswith("upload-") for account in world.data.accounts.values() for c in account)


def test_copying_an_asset_reads_no_arm_once_the_registry_exists():
    world = converged_world()
    content = upload(world)
    reads_before = world.arm.reads if hasattr(world.arm, "reads") else None
    writes_before = len(world.arm.writes)
    register(world, content)
    assert len(world.arm.writes) == writes_before
    if reads_before is not None:
        assert world.arm.reads == reads_before


def test_the_same_content_again_is_no_new_work_and_takes_the_new_description():
    world = converged_world()
    register(world, upload(world))
    definition = parse_asset(
        AssetType.MODELS,
        {"name": "clf", "version": "1", "path": upload(world), "description": "retrained? no, same bytes"},
    )
    result = world.assets.register(RegisterAsset("DemoRegistry1", definition))
    assert result.operation is None
    assert not any(c.startswith("upload-") for account in world.data.accounts.values() for c in account)
    assert world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1").version.description.startswith("retrained")


def test_other_content_under_the_same_version_is_refused_as_immutable():
    world = converged_world()
    register(world, upload(world))
    changed = upload(world, {**FILES, "model.pkl": b"\x01" * 4096})
    definition = parse_asset(AssetType.MODELS, {"name": "clf", "version": "1", "path": changed})
    with pytest.raises(Conflict) as raised:
        world.assets.register(RegisterAsset("DemoRegistry1", definition))
    assert raised.value.code == "AssetVersionImmutable"
    assert not any(c.startswith("upload-") for account in world.data.accounts.values() for c in account)


def test_another_model_type_is_other_content_too():
    world = converged_world()
    register(world, upload(world))
    definition = parse_asset(
        AssetType.MODELS, {"name": "clf", "version": "1", "path": upload(world), "type": "mlflow_model"}
    )
    with pytest.raises(Conflict):
        world.assets.register(RegisterAsset("DemoRegistry1", definition))


def test_a_registration_whose_files_disagree_with_the_upload_stores_nothing():
    world = converged_world()
    content = upload(world)
    definition = parse_asset(AssetType.MODELS, {"name": "clf", "version": "1", "path": content})
    claimed = (FileEntry("MLmodel", 3), FileEntry("missing.bin", 10))
    with pytest.raises(InvalidSpec) as raised:
        world.assets.register(RegisterAsset("DemoRegistry1", definition, claimed))
    paths = {e.path for e in raised.value.errors}
    assert {"files[MLmodel]", "files[missing.bin]", "files[model.pkl]"} <= paths
    assert world.asset_store.rows == {}
    with pytest.raises(NotFound):
        world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1")


def test_an_empty_upload_or_a_foreign_content_uri_is_refused():
    world = converged_world()
    started = world.assets.start_upload("DemoRegistry1", AssetType.MODELS, "clf", "1")
    empty = started["blobReferenceForConsumption"]["blobUri"]
    for content in (empty, "https://elsewhere.blob.core.windows.net/upload-" + "0" * 32, empty + "/../x"):
        definition = parse_asset(AssetType.MODELS, {"name": "clf", "version": "1", "path": content})
        with pytest.raises(InvalidSpec):
            world.assets.register(RegisterAsset("DemoRegistry1", definition))
    assert world.asset_store.rows == {}


def test_deleting_a_version_removes_its_copy_in_every_region_and_forgets_it():
    world = converged_world()
    register(world, upload(world))
    operation = world.assets.delete("DemoRegistry1", AssetType.MODELS, "clf", "1", None)
    world.drain()
    assert world.store.get_operation(operation.id).status is OperationStatus.SUCCEEDED
    for region in REGIONS:
        assert copies_in(world, region) == {}
    with pytest.raises(NotFound):
        world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1")


def test_a_region_added_later_is_backfilled_with_every_version():
    world = converged_world()
    register(world, upload(world))
    register(world, upload(world, {"a.txt": b"a"}, version="2"), version="2")
    world.api.patch(
        "DemoRegistry1", {"replication_locations": [*DEMO1["replication_locations"], {"location": "centralus"}]}
    )
    world.drain()
    for version, files in (("1", FILES), ("2", {"a.txt": b"a"})):
        assert copies_in(world, "centralus", f"models/clf/{version}/") == files
        view = world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", version)
        assert view.version.ledger["centralus"].state is CopyState.REPLICATED


def test_a_copy_deleted_by_hand_is_restored_by_the_region_sync_from_a_verified_copy():
    world = converged_world()
    register(world, upload(world))
    record = world.store.get_registry("demoregistry1")
    assert record is not None
    westus = next(a for a in record.resources["storage_accounts"] if a["region"] == "westus")
    del world.data.accounts[westus["blob_endpoint"]][ASSET_CONTAINER]["models/clf/1/model.pkl"]
    world.data.accounts[westus["blob_endpoint"]][ASSET_CONTAINER]["models/clf/1/MLmodel"].data = b"tampered"
    report = world.region_sync.run()
    assert "demoregistry1" in report.healing
    world.drain()
    assert copies_in(world, "westus") == FILES
    view = world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1")
    assert view.version.ledger["westus"].state is CopyState.REPLICATED
    assert view.operation is not None and view.operation.kind is OperationKind.REPLICATE


def test_the_region_sync_of_a_registry_whose_copies_are_whole_starts_nothing():
    world = converged_world()
    register(world, upload(world))
    report = world.region_sync.run()
    assert report.in_sync == ["demoregistry1"]
    assert not world.publisher.sent


def test_asynchronous_copies_are_polled_until_they_complete():
    world = converged_world()
    world.data.async_copies = True
    world.data.polls_to_finish = 3
    view = register(world, upload(world))
    assert view.status is AssetStatus.AVAILABLE
    assert world.data.requests["poll"] >= 3
    for region in REGIONS:
        assert copies_in(world, region) == FILES


def test_transient_copy_and_list_faults_are_retried_to_the_same_result():
    world = converged_world()
    definition = parse_asset(AssetType.MODELS, {"name": "clf", "version": "1", "path": upload(world)})
    world.assets.register(RegisterAsset("DemoRegistry1", definition))
    world.data.fail_next.update({"copy": 3, "list": 2})
    world.drain()
    view = world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1")
    assert view.status is AssetStatus.AVAILABLE
    assert world.data.fail_next == {"copy": 0, "list": 0}
    assert all(view.version.ledger[r].state is CopyState.REPLICATED for r in REGIONS)


def test_deleting_the_registry_forgets_its_versions():
    world = converged_world()
    register(world, upload(world))
    world.api.delete("DemoRegistry1")
    world.drain()
    assert world.asset_store.rows == {}


def test_archived_versions_stay_readable_but_leave_the_lists():
    world = converged_world()
    register(world, upload(world))
    register(world, upload(world, {"b": b"b"}, version="2"), version="2")
    world.assets.update("DemoRegistry1", AssetType.MODELS, "clf", "1", {"isArchived": True})
    listed = [v.version.version for v in world.assets.versions("DemoRegistry1", AssetType.MODELS, "clf")]
    assert listed == ["2"]
    everything = world.assets.versions("DemoRegistry1", AssetType.MODELS, "clf", archived=True)
    assert [v.version.version for v in everything] == ["1", "2"]
    assert world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1").version.archived


def test_only_description_tags_and_archival_change():
    world = converged_world()
    register(world, upload(world))
    with pytest.raises(InvalidSpec) as raised:
        world.assets.update("DemoRegistry1", AssetType.MODELS, "clf", "1", {"type": "mlflow_model", "tags": {"a": "b"}})
    assert [e.path for e in raised.value.errors] == ["type"]
    changed = world.assets.update("DemoRegistry1", AssetType.MODELS, "clf", "1", {"tags": {"stage": "prod"}})
    assert changed.version.tags == {"stage": "prod"}


def test_a_download_credential_names_a_replicated_regions_copy():
    world = converged_world()
    register(world, upload(world))
    granted = world.assets.download("DemoRegistry1", AssetType.MODELS, "clf", "1", "westus")
    assert granted["region"] == "westus"
    assert granted["blobUri"].endswith("/assets/models/clf/1/")
    assert "sig=r" in granted["credential"]["sasUri"]
    with pytest.raises(NotFound):
        world.assets.download("DemoRegistry1", AssetType.MODELS, "clf", "1", "japaneast")


def register_environment(world: World, document: dict[str, object]) -> VersionView:
    definition = parse_asset(AssetType.ENVIRONMENTS, document)
    world.assets.register(RegisterAsset("DemoRegistry1", definition))
    world.drain()
    return world.assets.get("DemoRegistry1", AssetType.ENVIRONMENTS, str(document["name"]), str(document["version"]))


def test_an_environment_image_is_imported_into_the_acr_and_served_in_every_region():
    world = converged_world()
    view = register_environment(
        world, {"name": "Sklearn-Env", "version": "3", "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:1"}
    )
    assert view.status is AssetStatus.AVAILABLE
    imports = [w for w in world.arm.writes if w.startswith("import:")]
    assert imports == [
        f"import:{world.arm.acr.name}:environments/sklearn-env:3:mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:1"
    ]
    assert world.arm.images == {"environments/sklearn-env:3"}
    assert view.version.imported == "environments/sklearn-env:3"
    assert {r: c.state for r, c in view.version.ledger.items()} == dict.fromkeys(REGIONS, CopyState.REPLICATED)


def test_an_environment_with_a_conda_file_and_an_image_needs_both_in_every_region():
    world = converged_world()
    started = world.assets.start_upload("DemoRegistry1", AssetType.ENVIRONMENTS, "conda-env", "1")
    blob_uri = started["blobReferenceForConsumption"]["blobUri"]
    endpoint, _, container = blob_uri.rpartition("/")
    world.data.put(endpoint + "/", container, "conda.yml", b"dependencies: [python=3.11]\n")
    view = register_environment(
        world, {"name": "conda-env", "version": "1", "image": "ubuntu:22.04", "conda_file": blob_uri}
    )
    assert view.status is AssetStatus.AVAILABLE
    assert any(w.endswith(":docker.io/library/ubuntu:22.04") for w in world.arm.writes)
    assert all(c.state is CopyState.REPLICATED and c.files == 1 for c in view.version.ledger.values())


def test_an_imported_image_is_not_imported_again_by_the_region_sync():
    world = converged_world()
    view = register_environment(world, {"name": "e", "version": "1", "image": "ubuntu:22.04"})
    assert view.status is AssetStatus.AVAILABLE
    assert len([w for w in world.arm.writes if w.startswith("import:")]) == 1
    report = world.region_sync.run()
    assert report.in_sync == ["demoregistry1"]  # the recorded import is what is there: nothing to do


def test_the_same_registration_sent_again_keeps_the_upload_its_copies_come_from():
    world = converged_world()
    content = upload(world)
    definition = parse_asset(AssetType.MODELS, {"name": "clf", "version": "1", "path": content})
    first = world.assets.register(RegisterAsset("DemoRegistry1", definition))
    again = world.assets.register(RegisterAsset("DemoRegistry1", definition))  # the answer was lost: PUT again
    assert first.operation is not None and again.operation is None
    world.drain()
    view = world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1")
    assert view.status is AssetStatus.AVAILABLE
    for region in REGIONS:
        assert copies_in(world, region) == FILES


def test_a_registration_written_without_its_operation_is_resumed_by_the_same_put_again():
    world = converged_world()
    definition = parse_asset(AssetType.MODELS, {"name": "clf", "version": "1", "path": upload(world)})
    real_start = world.lifecycle.start

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the host died between the version row and its operation")

    world.lifecycle.start = crash  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        world.assets.register(RegisterAsset("DemoRegistry1", definition))
    world.lifecycle.start = real_start  # type: ignore[method-assign]
    assert world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1").status is AssetStatus.CREATING
    again = world.assets.register(RegisterAsset("DemoRegistry1", definition))
    assert again.operation is not None and again.operation.kind is OperationKind.REGISTER
    world.drain()
    assert world.assets.get("DemoRegistry1", AssetType.MODELS, "clf", "1").status is AssetStatus.AVAILABLE
    assert world.assets.register(RegisterAsset("DemoRegistry1", definition)).operation is None  # nothing to resume
