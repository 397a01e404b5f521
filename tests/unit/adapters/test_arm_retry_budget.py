"""The ARM clients retry briefly inside a call and leave longer waits to the step's scheduled retries."""

from __future__ import annotations

from shared.adapters.arm import build_clients
from shared.adapters.credentials import StaticTokenCredential


def test_one_arm_call_sleeps_seconds_not_minutes_in_sdk_retries():
    clients = build_clients(StaticTokenCredential("t"), "00000000-0000-0000-0000-000000000000", "https://arm", None)
    for client in (clients.resources, clients.storage, clients.acr, clients.authz):
        policy = client._config.retry_policy
        settings = policy.configure_retries({})
        # what azure-core sleeps before each retry it may make (no Retry-After), summed
        worst = 0.0
        for _ in range(settings["total"]):
            settings["history"].append(None)
            worst += policy.get_backoff_time(settings)
        assert settings["total"] <= 3 and worst <= 10, (type(client).__name__, settings["total"], worst)
