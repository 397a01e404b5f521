"""The functions host killed (SIGKILL) while azure-ai-ml polls its ``begin_create``: the supervisor restarts
the host, the SDK's polls reach it again (azure-core retries refused connections), and the poller still
returns the registry, provisioned in every region."""

from __future__ import annotations

import os
import signal

import pytest
from azure.ai.ml import load_registry

from tests.integration.azureml.sdk import DATA, ml_client
from tests.integration.e2e.conftest import start_env
from tests.integration.e2e.test_crash_recovery import host_pid, wait_for_new_host

pytestmark = pytest.mark.integration


def test_the_sdk_still_gets_its_registry_when_the_host_dies_while_it_polls(tmp_path):
    for env in start_env(tmp_path, SANDBOX_LOCK_DURATION_SECONDS="3"):
        # A client configured to ride out a restart: refused connections are retried with a growing backoff.
        ml = ml_client(env.sandbox, "rg-chaos", retry_connect=10, retry_backoff_factor=0.5)
        poller = ml.registries.begin_create(load_registry(DATA / "demo-registry-1.yml"))
        assert not poller.done()  # accepted, still provisioning: the SDK is polling
        pid = host_pid(env)
        os.kill(pid, signal.SIGKILL)
        created = poller.result()
        assert created.name == "DemoRegistry1"
        assert [r.location for r in created.replication_locations] == ["eastus", "eastus2", "westus"]
        wait_for_new_host(env, pid)
        accounts = env.arm.storage.storage_accounts.list_by_resource_group("regctl-demoregistry1")
        assert sorted(a.location for a in accounts) == ["eastus", "eastus2", "westus"]
        assert env.api.get("/api/registries/DemoRegistry1").json()["status"] == "Ready"
