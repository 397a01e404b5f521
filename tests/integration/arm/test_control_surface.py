# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional; both are noise in tests that assert on real responses.
"""The /_sandbox/ control surface and running the simulator as a process."""

from __future__ import annotations

import json
import signal

import pytest
import requests

from sandbox.arm.control import ControlError, SandboxControl
from sandbox.arm.launcher import ArmEndpoint, SimulatorProcess
from tests.integration.arm.helpers import Clients, make_clients

pytestmark = pytest.mark.integration


def test_health_answers_ok_without_a_token(arm: ArmEndpoint) -> None:
    session = requests.Session()
    session.trust_env = False
    response = session.get(f"{arm.endpoint}/_sandbox/health", verify=arm.ca_bundle, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_reset_forgets_resources_faults_throttle_and_the_log(clients: Clients, control: SandboxControl) -> None:
    clients.resources.resource_groups.create_or_update("rg-reset", {"location": "eastus"})
    control.set_faults([{"method": "DELETE", "status": 500}])
    control.set_throttle(scale=0.5)
    control.set_latency(0.5)

    control.reset()

    assert control.requests() == []
    assert control.faults() == []
    assert clients.resources.resource_groups.check_existence("rg-reset") is False
    assert control.config()["time_scale"] == pytest.approx(0.004)
    assert control._call("GET", "throttle") == {"enabled": False, "scale": 1.0}


def test_clearing_the_request_log_and_reading_it_from_an_index(clients: Clients, control: SandboxControl) -> None:
    clients.resources.resource_groups.create_or_update("rg-log", {"location": "eastus"})
    clients.resources.resource_groups.get("rg-log")

    tail = control.requests(since=1)
    control.clear_requests()

    assert [r["method"] for r in tail] == ["GET"]
    assert control.requests() == []


def test_latency_changes_only_operations_started_afterwards(clients: Clients, control: SandboxControl) -> None:
    answer = control.set_latency(0.002, durations={"storage_create": 10.0})

    assert answer["time_scale"] == 0.002
    assert answer["durations"]["storage_create"] == 10.0
    with pytest.raises(ControlError):
        control.set_latency(-1)
    with pytest.raises(ControlError):
        control._call("PUT", "latency", {"durations": {"teleport": 1}})


def test_taken_names_can_be_read_back(control: SandboxControl) -> None:
    control.set_taken_names(storage=["Contoso1"], acr=["ContosoReg"])

    assert control._call("GET", "taken-names") == {"storage": ["contoso1"], "acr": ["contosoreg"]}
    with pytest.raises(ControlError):
        control._call("PUT", "taken-names", {"storage": "contoso"})


def test_config_rejects_unknown_keys_and_bad_values(control: SandboxControl) -> None:
    with pytest.raises(ControlError, match="unknown keys"):
        control.set_config(colour="red")
    with pytest.raises(ControlError, match="home_replica"):
        control.set_config(home_replica="sometimes")
    assert control.set_config(page_size=7)["page_size"] == 7


def test_images_of_a_missing_registry_is_404(control: SandboxControl) -> None:
    with pytest.raises(ControlError, match="404"):
        control.images("nosuchregistry")


def test_unknown_control_routes_are_404(control: SandboxControl) -> None:
    with pytest.raises(ControlError, match="404"):
        control._call("GET", "teleport")


def test_the_process_advertises_itself_and_exits_cleanly(tmp_path_factory: pytest.TempPathFactory) -> None:
    sandbox_dir = tmp_path_factory.mktemp("own-sandbox")
    simulator = SimulatorProcess(
        time_scale=0.5,
        sandbox_dir=sandbox_dir,
        extra_args=("--subscription-id", "11111111-2222-4333-8444-555555555555", "--taken-storage-name", "Held1"),
    )
    endpoint = simulator.start()
    try:
        advertised = json.loads((sandbox_dir / "arm.json").read_text())
        clients = make_clients(endpoint)
        clients.resources.resource_groups.create_or_update("rg-own", {"location": "eastus"})
        held = clients.storage.storage_accounts.check_name_availability({"name": "held1"})
        with SandboxControl(endpoint.endpoint, endpoint.ca_bundle) as control:
            time_scale = control.config()["time_scale"]
    finally:
        process = simulator.process
        assert process is not None
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
        simulator.stop()

    assert advertised == {
        "endpoint": endpoint.endpoint,
        "blob_endpoint": endpoint.blob_endpoint,
        "ca_bundle": str(sandbox_dir.resolve() / "arm-ca.pem"),
        "subscription_id": "11111111-2222-4333-8444-555555555555",
    }
    assert endpoint.endpoint.startswith("https://127.0.0.1:")
    assert held.name_available is False
    assert time_scale == 0.5
    assert code == 0
    assert not (sandbox_dir / "arm.json").exists()
