"""Settings, queue names and connection names agree across function_app.py, host.json and the examples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def _aliases() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif alias is not None:
            names.update(str(choice) for choice in alias.choices)
    return names


def _binding_expressions() -> set[str]:
    found: set[str] = set()
    for path in [ROOT / "function_app.py", *(ROOT / "handlers").glob("*.py")]:
        found.update(re.findall(r"%([A-Za-z0-9_]+)%", path.read_text()))
    return found


def test_every_binding_expression_is_a_setting_of_the_settings_class():
    expressions = _binding_expressions()
    assert expressions, "function_app uses %SETTING% expressions for queue names and schedules"
    assert expressions <= _aliases()


def test_every_connection_named_by_a_trigger_has_its_identity_based_setting():
    connections: set[str] = set()
    for path in [ROOT / "function_app.py", *(ROOT / "handlers").glob("*.py")]:
        connections.update(re.findall(r'connection="([A-Za-z0-9_]+)"', path.read_text()))
    assert connections == {"ServiceBusConnection"}
    assert "ServiceBusConnection__fullyQualifiedNamespace" in _aliases()


def test_local_settings_example_lists_every_setting_and_nothing_unknown():
    values = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    host_only = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"}
    secret_or_sandbox_only = {
        "ARM_STATIC_TOKEN",
        "ARM_CA_BUNDLE",
        "DATA_CA_BUNDLE",
        "QueueStorageConnection",
        "StateStorageConnection",
        "STATE_TABLE_ENDPOINT",
        "REGCTL_AUTH_CA_BUNDLE",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
    }
    assert set(values) - host_only <= _aliases()
    assert _aliases() - secret_or_sandbox_only <= set(values)


def test_example_values_are_accepted_by_the_settings_class():
    values = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    settings = Settings.model_validate({k: v for k, v in values.items() if k in _aliases()})
    assert settings.reconcile_queue == values["RECONCILE_QUEUE_NAME"]
    assert settings.steps_queue == values["STEPS_QUEUE_NAME"]


def test_host_json_service_bus_settings_are_explicit():
    host = json.loads((ROOT / "host.json").read_text())
    service_bus = host["extensions"]["serviceBus"]
    assert {"maxConcurrentCalls", "autoCompleteMessages", "maxAutoLockRenewalDuration"} <= set(service_bus)
    assert host["extensions"]["http"]["routePrefix"] == ""
    assert "functionTimeout" in host


def _bicep_app_settings() -> dict[str, str]:
    text = (ROOT / "infra" / "app" / "functions.bicep").read_text()
    return dict(re.findall(r"\{ name: '([^']+)', value: ([^}]+?) \}", text))


def test_infra_app_settings_cover_every_production_setting():
    names = set(_bicep_app_settings())
    sandbox_only = {
        "ARM_STATIC_TOKEN",
        "ARM_CA_BUNDLE",
        "DATA_CA_BUNDLE",
        "QueueStorageConnection",
        "StateStorageConnection",
        "STATE_TABLE_ENDPOINT",
        "REGCTL_AUTH_CA_BUNDLE",
    }
    assert _aliases() - sandbox_only <= names
    platform = {n for n in names if n.startswith(("AzureWebJobsStorage__", "APPLICATIONINSIGHTS_"))}
    platform |= {"AZURE_CLIENT_ID", "ServiceBusConnection__credential", "ServiceBusConnection__clientId"}
    assert names - platform <= _aliases()


def test_infra_queue_and_table_names_match_the_settings_defaults():
    defaults = Settings.model_validate(
        {
            "ServiceBusConnection__fullyQualifiedNamespace": "x",
            "STATE_TABLE_ENDPOINT": "y",
            "REGCTL_SUBSCRIPTION_ID": "s",
        }
    )
    servicebus = (ROOT / "infra" / "app" / "servicebus.bicep").read_text()
    assert f"param reconcileQueueName string = '{defaults.reconcile_queue}'" in servicebus
    assert f"param stepsQueueName string = '{defaults.steps_queue}'" in servicebus
    assert f"param operationEventsQueueName string = '{defaults.operation_events_queue}'" in servicebus
    storage = (ROOT / "infra" / "app" / "storage.bicep").read_text()
    assert f"param tablePrefix string = '{defaults.table_prefix}'" in storage
    assert "['Registries', 'Steps', 'Seen', 'Access', 'Activity', 'Assets', 'Tickets', 'Promotions']" in storage
    assert f"param ticketWritebackQueueName string = '{defaults.ticket_writeback_queue}'" in servicebus
    assert f"param eventsQueueName string = '{defaults.events_queue}'" in servicebus
    settings = _bicep_app_settings()
    assert settings["STATE_TABLE_PREFIX"] == f"'{defaults.table_prefix}'"
    assert settings["REGION_SYNC_SCHEDULE"] == "regionSyncSchedule"
    main = (ROOT / "infra" / "main.bicep").read_text()
    assert f"param regionSyncSchedule string = '{defaults.region_sync_schedule}'" in main


def test_infra_identity_defaults_match_the_settings_defaults():
    defaults = Settings.model_validate(
        {
            "ServiceBusConnection__fullyQualifiedNamespace": "x",
            "STATE_TABLE_ENDPOINT": "y",
            "REGCTL_SUBSCRIPTION_ID": "s",
        }
    )
    main = (ROOT / "infra" / "main.bicep").read_text()
    assert f"param authMode string = '{defaults.auth_mode}'" in main
    assert f"param authAudiences string = '{defaults.auth_audiences}'" in main
    assert f"param authIssuers string = '{defaults.auth_issuers}'" in main
    assert f"param authJwksUri string = '{defaults.auth_jwks_uri}'" in main
    assert "bootstrapOwners: operatorPrincipalId" in main
    settings = _bicep_app_settings()
    assert settings["REGCTL_BOOTSTRAP_OWNERS"] == "bootstrapOwners"
    assert settings["REGCTL_AUTH_TENANTS"] == "authTenants"


def test_identity_lists_are_parsed_from_comma_separated_settings():
    settings = Settings.model_validate(
        {
            "ServiceBusConnection__fullyQualifiedNamespace": "x",
            "STATE_TABLE_ENDPOINT": "y",
            "REGCTL_SUBSCRIPTION_ID": "s",
            "REGCTL_AUTH_AUDIENCES": " api://regctl , 11111111-2222-3333-4444-555555555555,,api://regctl",
            "REGCTL_AUTH_TENANTS": "t1,t2",
            "REGCTL_BOOTSTRAP_OWNERS": "",
        }
    )
    assert settings.auth_audience_list == ["api://regctl", "11111111-2222-3333-4444-555555555555"]
    assert settings.auth_tenant_list == ["t1", "t2"]
    assert settings.bootstrap_owner_list == []
    assert settings.auth_issuer_list == [
        "https://login.microsoftonline.com/{tenant}/v2.0",
        "https://sts.windows.net/{tenant}/",
    ]
    assert settings.auth_mode == "jwt"


def test_ticketing_secrets_are_key_vault_references_in_infra():
    settings = _bicep_app_settings()
    text = (ROOT / "infra" / "app" / "functions.bicep").read_text()
    for name in ("JIRA_WEBHOOK_SECRETS", "SERVICENOW_WEBHOOK_SECRETS", "STD_WEBHOOK_SECRETS", "JIRA_API_TOKEN"):
        reference = settings[name]
        assert re.search(rf"var {reference} = '@Microsoft\.KeyVault\(VaultName=", text), name
    assert Settings.model_fields["jira_api_token"].repr is False


def test_a_dead_letter_destination_that_is_no_storage_account_or_container_name_is_refused_by_name():
    base = {"ServiceBusConnection__fullyQualifiedNamespace": "x", "STATE_TABLE_ENDPOINT": "y"}
    base |= {"REGCTL_SUBSCRIPTION_ID": "s"}
    account = "/subscriptions/s/resourceGroups/cp/providers/Microsoft.Storage/storageAccounts/cpstate"
    settings = Settings.model_validate({**base, "EVENTS_DEAD_LETTER_ACCOUNT_ID": account})
    assert (settings.events_dead_letter_account_id, settings.events_dead_letter_container) == (
        account,
        "eventgrid-deadletter",
    )
    for name, value in (
        ("EVENTS_DEAD_LETTER_ACCOUNT_ID", account.replace("storageAccounts", "vaults")),
        ("EVENTS_DEAD_LETTER_CONTAINER", "Dead_Letters"),
    ):
        with pytest.raises(ValidationError, match=name):
            Settings.model_validate({**base, name: value})


def test_the_events_handler_is_told_the_queues_max_delivery_count_by_the_same_bicep_value():
    defaults = Settings.model_validate(
        {
            "ServiceBusConnection__fullyQualifiedNamespace": "x",
            "STATE_TABLE_ENDPOINT": "y",
            "REGCTL_SUBSCRIPTION_ID": "s",
        }
    )
    servicebus = (ROOT / "infra" / "app" / "servicebus.bicep").read_text()
    assert f"var maxDeliveryCount = {defaults.events_max_delivery_count}" in servicebus
    assert "maxDeliveryCount: maxDeliveryCount" in servicebus  # the queues' own value
    assert "output maxDeliveryCount int = maxDeliveryCount" in servicebus
    assert _bicep_app_settings()["EVENTS_MAX_DELIVERY_COUNT"] == "string(eventsMaxDeliveryCount)"
    main = (ROOT / "infra" / "main.bicep").read_text()
    assert "eventsMaxDeliveryCount: messaging.outputs.maxDeliveryCount" in main


@pytest.mark.parametrize("value", ["0", "-1", "ten"])
def test_a_max_delivery_count_that_is_no_positive_integer_is_refused_by_name(value: str):
    base = {"ServiceBusConnection__fullyQualifiedNamespace": "x", "STATE_TABLE_ENDPOINT": "y"}
    base |= {"REGCTL_SUBSCRIPTION_ID": "s"}
    assert Settings.model_validate({**base, "EVENTS_MAX_DELIVERY_COUNT": "5"}).events_max_delivery_count == 5
    with pytest.raises(ValidationError, match="EVENTS_MAX_DELIVERY_COUNT"):
        Settings.model_validate({**base, "EVENTS_MAX_DELIVERY_COUNT": value})
