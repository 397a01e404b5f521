"""ARM's subscription token buckets, scaled down so a test can empty them."""

from __future__ import annotations

import pytest

from sandbox.arm.control import SandboxControl
from sandbox.arm.launcher import ArmEndpoint
from tests.integration.arm.helpers import RG_API, Clients, RawArm, make_clients, new_guid, statuses

pytestmark = pytest.mark.integration


def test_an_empty_read_bucket_answers_429_with_retry_after_and_counts_down(
    raw: RawArm, control: SandboxControl
) -> None:
    control.set_throttle(scale=0.02)  # reads: 5 tokens, 0.5 per second
    path = f"/subscriptions/{raw.sub}/resourcegroups"

    answers = [raw.request("GET", path, api=RG_API) for _ in range(6)]

    remaining = [r.headers["x-ms-ratelimit-remaining-subscription-reads"] for r in answers]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert remaining == ["4", "3", "2", "1", "0", "0"]
    throttled = answers[-1]
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json()["error"]["code"] == "SubscriptionRequestsThrottled"


def test_reads_writes_and_deletes_have_separate_buckets(raw: RawArm, control: SandboxControl) -> None:
    control.set_throttle(scale=0.01)  # reads: 2.5 tokens (2 usable), writes and deletes: 2
    rg_path = f"/subscriptions/{raw.sub}/resourcegroups/rg-buckets"

    reads = [raw.request("GET", f"/subscriptions/{raw.sub}/resourcegroups", api=RG_API) for _ in range(3)]
    write = raw.request("PUT", rg_path, api=RG_API, json={"location": "eastus"})
    delete = raw.request("DELETE", rg_path, api=RG_API)

    assert [r.status_code for r in reads] == [200, 200, 429]
    assert write.status_code == 201
    assert write.headers["x-ms-ratelimit-remaining-subscription-writes"] == "1"
    assert delete.status_code == 202
    assert delete.headers["x-ms-ratelimit-remaining-subscription-deletes"] == "1"


def test_each_subscription_has_its_own_buckets(raw: RawArm, control: SandboxControl) -> None:
    control.set_throttle(scale=0.004)  # one read
    other = new_guid()

    mine = [raw.request("GET", f"/subscriptions/{raw.sub}/resourcegroups", api=RG_API).status_code for _ in range(2)]
    theirs = raw.request("GET", f"/subscriptions/{other}/resourcegroups", api=RG_API).status_code

    assert mine == [200, 429]
    assert theirs == 200


def test_the_sdk_waits_out_a_throttled_bucket(arm: ArmEndpoint, clients: Clients, control: SandboxControl) -> None:
    clients.resources.resource_groups.create_or_update("rg-throttled", {"location": "eastus"})
    control.set_throttle(scale=0.04)  # reads: 10 tokens, 1 per second

    answers: list[str | None] = []
    for _ in range(30):  # until the bucket runs dry; the SDK absorbs the 429 itself
        answers.append(clients.resources.resource_groups.get("rg-throttled").name)
        if 429 in statuses(control.requests(), "GET", "/resourcegroups/rg-throttled"):
            break

    log = statuses(control.requests(), "GET", "/resourcegroups/rg-throttled")
    assert set(answers) == {"rg-throttled"}
    assert log[-2:] == [429, 200]


def test_turning_throttling_off_lets_every_request_through(raw: RawArm, control: SandboxControl) -> None:
    control.set_throttle(scale=0.004)
    control.clear_throttle()

    codes = {raw.request("GET", f"/subscriptions/{raw.sub}/resourcegroups", api=RG_API).status_code for _ in range(5)}

    assert codes == {200}


def test_lro_monitors_count_as_reads(arm: ArmEndpoint, control: SandboxControl) -> None:
    clients = make_clients(arm)
    clients.resources.resource_groups.create_or_update("rg-lro-reads", {"location": "eastus"})
    control.set_throttle(scale=1.0)

    clients.resources.resource_groups.begin_delete("rg-lro-reads").result()

    monitors = [r for r in control.requests() if "/operationresults/" in r["path"]]
    assert monitors
    assert {r["op"] for r in monitors} == {"read"}
