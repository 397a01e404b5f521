"""host.json and SANDBOX_* settings the host honours."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.host.config import HostConfigError, HostJson, QueueOptions, parse_timespan


def test_without_host_json_the_functions_defaults_apply(tmp_path: Path) -> None:
    host = HostJson.load(tmp_path / "host.json")

    assert host.max_concurrent_calls == 16
    assert host.max_message_batch_size == 1000
    assert host.max_auto_lock_renewal_seconds == 300
    assert host.function_timeout_seconds is None


def test_service_bus_settings_are_read_from_host_json() -> None:
    host = HostJson.from_document(
        {
            "functionTimeout": "00:10:00",
            "extensions": {
                "serviceBus": {
                    "maxConcurrentCalls": 8,
                    "maxMessageBatchSize": 32,
                    "maxAutoLockRenewalDuration": "00:02:30",
                }
            },
        }
    )

    assert host.max_concurrent_calls == 8
    assert host.max_message_batch_size == 32
    assert host.max_auto_lock_renewal_seconds == 150
    assert host.function_timeout_seconds == 600


def test_manual_settlement_is_refused_because_nothing_would_complete_the_messages() -> None:
    with pytest.raises(HostConfigError, match="autoCompleteMessages"):
        HostJson.from_document({"extensions": {"serviceBus": {"autoCompleteMessages": False}}})


@pytest.mark.parametrize(
    ("service_bus", "message"),
    [
        ({"maxMessageBatchSize": 0}, "maxMessageBatchSize must be at least 1, not 0"),
        ({"minMessageBatchSize": 10}, "minMessageBatchSize above 1"),
    ],
)
def test_batch_settings_the_sandbox_cannot_honour_are_refused(service_bus: dict[str, int], message: str) -> None:
    with pytest.raises(HostConfigError, match=message):
        HostJson.from_document({"extensions": {"serviceBus": service_bus}})


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:05:00", 300), ("1.02:00:00", 93600), ("00:00:01.5", 1.5), ("10:00:00", 36000)]
)
def test_timespans_are_dotnet_formatted(text: str, seconds: float) -> None:
    assert parse_timespan(text) == seconds


def test_a_malformed_timespan_is_refused() -> None:
    with pytest.raises(HostConfigError):
        parse_timespan("5 minutes")


def test_queue_options_default_to_service_bus_defaults() -> None:
    options = QueueOptions.from_env({})

    assert options.lock_duration_seconds == 60
    assert options.max_delivery_count == 10
    assert options.duplicate_detection_window_seconds == 600
    assert not options.deliver_twice


def test_queue_options_are_shortened_through_sandbox_settings() -> None:
    options = QueueOptions.from_env(
        {
            "SANDBOX_LOCK_DURATION_SECONDS": "2",
            "SANDBOX_MAX_DELIVERY_COUNT": "3",
            "SANDBOX_DUPLICATE_DETECTION_WINDOW_SECONDS": "0",
            "SANDBOX_DELIVER_TWICE": "1",
        }
    )

    assert options.lock_duration_seconds == 2
    assert options.max_delivery_count == 3
    assert options.duplicate_detection_window_seconds == 0
    assert options.deliver_twice


@pytest.mark.parametrize(
    "env",
    [
        {"SANDBOX_LOCK_DURATION_SECONDS": "0"},
        {"SANDBOX_LOCK_DURATION_SECONDS": "1.5"},
        {"SANDBOX_MAX_DELIVERY_COUNT": "0"},
        {"SANDBOX_POLL_MIN_SECONDS": "1", "SANDBOX_POLL_MAX_SECONDS": "0.5"},
    ],
)
def test_unusable_sandbox_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(HostConfigError):
        QueueOptions.from_env(env)
