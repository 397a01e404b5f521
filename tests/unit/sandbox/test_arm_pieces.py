"""Pure pieces of the ARM simulator: no server, no network."""

from __future__ import annotations

import base64
import re

import pytest

from sandbox.arm import azurite
from sandbox.arm.config import OpKind, Settings
from sandbox.arm.envelope import ArmError
from sandbox.arm.faults import FaultConfigError, FaultEngine, parse_rules
from sandbox.arm.lro import Operation, Protocol
from sandbox.arm.routes import RouteName, match
from sandbox.arm.state import Store
from sandbox.arm.storage_rules import check_sku_change, name_problem
from sandbox.arm.throttle import OpType, Throttle

SUB = "00000000-0000-4000-8000-0000000000a1"


def test_pool_accounts_are_valid_distinct_and_stable() -> None:
    accounts = [azurite.pool_account(index) for index in range(azurite.DEFAULT_POOL_SIZE)]

    names = [name for name, _ in accounts]
    assert len(set(names)) == len(names)
    for index, (name, key) in enumerate(accounts):
        assert re.fullmatch(r"[a-z0-9]{3,24}", name)
        assert len(base64.b64decode(key, validate=True)) == 64
        assert azurite.pool_index(name) == index
    assert azurite.pool_account(3) == accounts[3]
    assert azurite.pool_index("devstoreaccount1") is None


def test_accounts_env_lists_the_default_account_and_the_pool() -> None:
    value = azurite.accounts_env(4)

    pairs = dict(item.split(":", 1) for item in value.split(";"))
    assert pairs[azurite.DEFAULT_ACCOUNT] == azurite.DEFAULT_KEY
    assert pairs[azurite.pool_account(3)[0]] == azurite.pool_account(3)[1]
    assert len(pairs) == 5


def test_the_pool_hands_out_the_lowest_free_account_and_forgets_content_on_release() -> None:
    pool = azurite.BlobPool(2)
    first, second = pool.assign("A"), pool.assign("b")
    pool.mark_clean(first)
    pool.release("a")

    assert (first, second) == (0, 1)
    assert pool.assign("c") == 0
    assert pool.needs_purge(0)
    assert pool.holder_of(0) == "c"
    with pytest.raises(azurite.PoolExhaustedError):
        pool.assign("d")


def test_queue_and_table_endpoints_sit_next_to_the_blob_port() -> None:
    assert azurite.service_endpoint("http://127.0.0.1:10000", "sbxpool001", 1) == "http://127.0.0.1:10001/sbxpool001/"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/subscriptions/{SUB}/resourcegroups/rg", RouteName.RG_ITEM),
        (
            f"/SUBSCRIPTIONS/{SUB}/resourceGroups/rg/providers/microsoft.storage/STORAGEACCOUNTS/a1",
            RouteName.STORAGE_ITEM,
        ),
        (f"/subscriptions/{SUB}/providers/Microsoft.Storage/checkNameAvailability", RouteName.STORAGE_CHECK_NAME),
        (f"/subscriptions/{SUB}/providers/Microsoft.Storage", RouteName.PROVIDER),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/replications/x/operationStatuses/o",
            RouteName.REPL_STATUS,
        ),
        ("/providers/Microsoft.Authorization/roleAssignments", RouteName.RA_LIST),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/providers/Microsoft.Authorization/roleAssignments/g",
            RouteName.RA_ITEM,
        ),
    ],
)
def test_routes_match_case_insensitively(path: str, name: RouteName) -> None:
    route = match([s for s in path.split("/") if s])
    assert route is not None
    assert route.name is name


def test_role_assignment_routes_carry_their_scope() -> None:
    path = f"/subscriptions/{SUB}/resourceGroups/Rg1/providers/Microsoft.Authorization/roleAssignments/g1"
    route = match([s for s in path.split("/") if s])
    assert route is not None
    assert route.params == {"scope": f"/subscriptions/{SUB}/resourceGroups/Rg1", "sub": SUB, "rg": "Rg1", "name": "g1"}


def test_unknown_paths_do_not_match() -> None:
    assert match(["subscriptions", SUB, "providers", "Microsoft.Storage", "storageAccounts", "a", "b"]) is None


def test_fault_rules_are_validated() -> None:
    rules, seed = parse_rules(
        {"rules": [{"method": "get", "resource_type": "/Microsoft.Storage/storageAccounts/", "status": 429}], "seed": 3}
    )
    assert seed == 3
    assert rules[0].method == "GET"
    assert rules[0].resource_type == "microsoft.storage/storageaccounts"
    with pytest.raises(FaultConfigError):
        parse_rules({"rules": [{"status": 429, "lro_result": "Failed"}]})
    with pytest.raises(FaultConfigError):
        parse_rules({"rules": [], "extra": 1})


def test_lro_rules_only_hit_requests_that_start_operations() -> None:
    engine = FaultEngine()
    engine.configure(*parse_rules({"rules": [{"lro_result": "Failed", "count": 1}]}))

    assert engine.status_fault("PUT", "Microsoft.Storage/storageAccounts") is None
    first = engine.lro_failure("PUT", "Microsoft.Storage/storageAccounts")
    second = engine.lro_failure("PUT", "Microsoft.Storage/storageAccounts")

    assert first is not None
    assert first.code == "InternalServerError"
    assert second is None


def test_a_token_bucket_refills_at_its_rate() -> None:
    throttle = Throttle()
    throttle.configure(True, 0.004)  # reads: 1 token, 0.1 per second
    throttle.admit(SUB, OpType.READ, now=100.0)

    with pytest.raises(ArmError) as err:
        throttle.admit(SUB, OpType.READ, now=100.0)
    refilled = throttle.admit(SUB, OpType.READ, now=110.0)

    assert err.value.status == 429
    assert err.value.retry_after == 10
    assert refilled["x-ms-ratelimit-remaining-subscription-reads"] == "0"


def test_disabled_throttling_reports_a_full_bucket() -> None:
    headers = Throttle().admit(SUB, OpType.WRITE, now=0.0)
    assert headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    assert headers["x-ms-ratelimit-remaining-subscription-global-writes"] == "2999"


def test_storage_names_and_sku_moves() -> None:
    assert name_problem("abc") is None
    assert name_problem("Abc") is not None
    check_sku_change("Standard_LRS", "Standard_RAGRS")
    with pytest.raises(ArmError) as err:
        check_sku_change("Standard_ZRS", "Standard_GZRS")
    assert err.value.code == "StorageAccountTypeConversionNotAllowed"


def _op(time_scale: float, duration: float, hint: float) -> Operation:
    return Operation(
        id="op",
        kind=OpKind.STORAGE_CREATE,
        protocol=Protocol.LOCATION,
        resource_type="t",
        subscription=SUB,
        monitor_path="/m",
        started=0.0,
        ready_at=duration,
        time_scale=time_scale,
        poll_hint=hint,
    )


def test_retry_after_is_whole_seconds_at_least_one_in_real_time() -> None:
    assert _op(1.0, 25.0, 17.0).retry_headers(now=0.0) == {"retry-after": "17"}
    assert _op(1.0, 25.0, 17.0).retry_headers(now=24.9) == {"retry-after": "1"}


def test_scaled_runs_get_milliseconds_instead() -> None:
    assert _op(0.01, 0.25, 0.17).retry_headers(now=0.0) == {"retry-after-ms": "170"}
    assert _op(0.01, 0.25, 0.17).retry_headers(now=0.2) == {"retry-after-ms": "55"}


def test_the_request_log_drops_its_oldest_entries_but_keeps_absolute_indexes() -> None:
    store = Store(Settings(request_log_limit=10))
    for i in range(25):
        store.log_request("GET", f"/p{i}", 200, "read", now=store.started_at)

    assert len(store.request_log) <= 10
    assert [e["path"] for e in store.requests_since(24)] == ["/p24"]
    assert store.requests_since(0)[-1]["path"] == "/p24"
