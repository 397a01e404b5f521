"""The production state store against Azurite's Table service: ETag concurrency, atomic writes, no orphans."""

from __future__ import annotations

import uuid

import pytest
from azure.data.tables import TableServiceClient

from sandbox.azurite_proc import Azurite
from shared.adapters.tables import TableStateStore
from shared.domain.errors import ConcurrentUpdate, Conflict
from shared.domain.records import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    RegistryRecord,
    RegistryStatus,
    new_operation_id,
)
from tests.unit.services.fakes import FakePublisher
from tests.unit.services.world import World

pytestmark = pytest.mark.integration


@pytest.fixture
def store(azurite: Azurite) -> TableStateStore:
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    created = TableStateStore(service, "t" + uuid.uuid4().hex[:10])
    for table in created.table_names():
        service.create_table_if_not_exists(table)
    return created


def operation(registry: str, kind: OperationKind = OperationKind.CREATE, key: str | None = None) -> OperationRecord:
    return OperationRecord(
        id=new_operation_id(registry), registry=registry, kind=kind, generation=1, idempotency_key=key
    )


def registry(key: str, operation_id: str) -> RegistryRecord:
    return RegistryRecord(key=key, name=key, spec={"name": key}, operation_id=operation_id)


def test_a_second_create_is_refused_and_leaves_no_operation_behind(store: TableStateStore):
    first = operation("reg")
    store.create_registry(registry("reg", first.id), first)
    second = operation("reg", key="k2")
    with pytest.raises(Conflict) as raised:
        store.create_registry(registry("reg", second.id), second)
    assert raised.value.code == "RegistryExists"
    assert store.get_operation(first.id) is not None
    assert store.get_operation(second.id) is None
    assert store.find_idempotent("reg", "k2") is None


def test_a_write_from_a_stale_read_is_refused_atomically(store: TableStateStore):
    first = operation("reg")
    store.create_registry(registry("reg", first.id), first)
    loop_copy = store.get_registry("reg")
    request_copy = store.get_registry("reg")
    assert loop_copy is not None and request_copy is not None
    loop_copy.status = RegistryStatus.READY
    store.replace_registry(loop_copy)

    update = operation("reg", OperationKind.UPDATE, key="k")
    request_copy.operation_id = update.id
    with pytest.raises(ConcurrentUpdate):
        store.replace_registry(request_copy, update)
    stored = store.get_registry("reg")
    assert stored.operation_id == first.id and stored.status is RegistryStatus.READY
    assert store.get_operation(update.id) is None
    assert store.find_idempotent("reg", "k") is None


def test_a_delete_racing_the_loop_is_accepted_once(store: TableStateStore):
    """The race behind a 409 that once reached a caller: the loop writes the record mid-request."""
    publisher = FakePublisher()
    service = World(store=store, publisher=publisher).api  # type: ignore[arg-type]  # the real store
    service.create({"name": "Race", "location": "eastus", "replication_locations": [{"location": "eastus"}]})
    real_get = store.get_registry
    races = iter([True, True])

    def get_then_loop_writes(key: str) -> RegistryRecord | None:
        found = real_get(key)
        if found is not None and next(races, False):
            loop_copy = real_get(key)
            assert loop_copy is not None
            loop_copy.status = RegistryStatus.PROVISIONING
            store.replace_registry(loop_copy)
        return found

    store.get_registry = get_then_loop_writes  # type: ignore[method-assign]
    accepted = service.delete("Race", idempotency_key="d1")
    store.get_registry = real_get  # type: ignore[method-assign]

    stored = store.get_registry("race")
    assert stored is not None and stored.deleting and stored.operation_id == accepted.operation.id
    assert store.find_idempotent("race", "d1") is not None
    assert len(publisher.sent) == 2  # the create's reconcile and the delete's, nothing from the lost attempts


@pytest.mark.parametrize("with_operation", [False, True])
def test_a_replace_keeps_the_new_etag_from_its_own_response(store: TableStateStore, with_operation: bool):
    """Alone the row is a plain ETag-checked update, with an operation one transaction; either way the
    record carries the ETag the write produced (no read after), so the next write from it goes through and
    a copy read before it is refused."""
    first = operation("reg")
    store.create_registry(registry("reg", first.id), first)
    record, stale = store.get_registry("reg"), store.get_registry("reg")
    assert record is not None and stale is not None
    update = operation("reg", OperationKind.UPDATE, key="k") if with_operation else None
    record.status = RegistryStatus.READY
    store.replace_registry(record, update)
    assert record.etag == store.get_registry("reg").etag != stale.etag
    record.status = RegistryStatus.PROVISIONING
    store.replace_registry(record)
    with pytest.raises(ConcurrentUpdate):
        store.replace_registry(stale)
    assert store.get_registry("reg").status is RegistryStatus.PROVISIONING


def test_a_replace_of_a_deleted_registry_is_a_concurrent_update(store: TableStateStore):
    first = operation("reg")
    store.create_registry(registry("reg", first.id), first)
    record = store.get_registry("reg")
    assert record is not None
    store.delete_registry(record)
    with pytest.raises(ConcurrentUpdate):
        store.replace_registry(record)
    assert store.get_registry("reg") is None


def test_a_create_is_one_entity_and_its_operation_reads_from_it_until_its_first_save(store: TableStateStore):
    first = operation("reg", key="k1")
    store.create_registry(registry("reg", first.id), first)
    rows = list(store._registries.query_entities("PartitionKey eq 'reg'"))  # the layout itself
    assert [row["RowKey"] for row in rows] == ["registry"]

    accepted = store.get_operation(first.id)
    assert accepted is not None and accepted.status is OperationStatus.ACCEPTED and accepted.kind is first.kind
    assert accepted.created_at == first.created_at
    assert store.find_idempotent("reg", "k1") == accepted
    record = store.get_registry("reg")
    assert record is not None
    record.status = RegistryStatus.READY
    store.replace_registry(record)  # the loop writes the row: the inline operation stays readable
    assert store.get_operation(first.id) == accepted

    running, late = store.get_operation(first.id), store.get_operation(first.id)
    assert running is not None and late is not None
    running.status = OperationStatus.RUNNING
    store.save_operation(running)  # the first save makes the operation's own row
    late.status = OperationStatus.CANCELED
    with pytest.raises(ConcurrentUpdate):
        store.save_operation(late)  # a second "first save" from the inline copy loses
    saved = store.get_operation(first.id)
    assert saved is not None and saved.status is OperationStatus.RUNNING and saved.etag == running.etag

    gone = store.get_registry("reg")
    assert gone is not None
    store.delete_registry(gone)  # the row and its inline copy go; the operation stays
    assert store.get_operation(first.id) == saved
    assert store.find_idempotent("reg", "k1") == saved
    assert store.find_idempotent("reg", "other") is None
