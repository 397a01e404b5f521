"""What infra (``infra/main.bicep``) does for the Function App in Azure, done for ``python -m sandbox up``: the
app settings the functions host gets (ARM, storage, the Entra stand-in to validate tokens against, the
ticketing simulator), validated by the app's own ``Settings``, and the queues (with their dead-letter queues)
and state tables it expects to find.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueServiceClient

from sandbox.host.queues import dead_letter_queue
from sandbox.processes import SandboxError
from shared.adapters.access_tables import TableAccessStore
from shared.adapters.asset_tables import TableAssetStore
from shared.adapters.promotion_tables import TablePromotionStore
from shared.adapters.tables import TableStateStore
from shared.adapters.ticket_tables import TableTicketStore
from shared.settings import Settings

STATIC_TOKEN = "sandbox"  # the simulator accepts any bearer token


def parse_env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SandboxError(f"--env wants KEY=VALUE, not {pair!r}")
        result[key] = value
    return result


def _alias(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if not isinstance(alias, str):
        raise SandboxError(f"Settings.{field} has no single environment name")
    return alias


def auth_environment(identity: Mapping[str, Any]) -> dict[str, str]:
    """The app settings that make the host validate the Entra stand-in's tokens (shared/settings.py names).

    ``REGCTL_AUTH_ISSUERS`` holds issuer templates whose ``{tenant}`` is the token's ``tid``."""
    return {
        "REGCTL_AUTH_MODE": "jwt",
        "REGCTL_AUTH_AUDIENCES": str(identity["audience"]),
        "REGCTL_AUTH_TENANTS": str(identity["tenant_id"]),
        "REGCTL_AUTH_ISSUERS": f"{identity['endpoint']}/{{tenant}}/v2.0",  # a template, as Entra's issuers
        "REGCTL_AUTH_JWKS_URI": str(identity["jwks_uri"]),
        "REGCTL_AUTH_CA_BUNDLE": str(identity["ca_bundle"]),
        "REGCTL_BOOTSTRAP_OWNERS": str(identity["owner_principal_id"]),
        # the web console signs in as the stand-in's public client (authorization code with PKCE)
        "REGCTL_CONSOLE_CLIENT_ID": str(identity["public_client_id"]),
        "REGCTL_CONSOLE_AUTHORITY": f"{identity['endpoint']}/{identity['tenant_id']}",
        "REGCTL_CONSOLE_SCOPES": f"{identity['audience']}/user_impersonation",
    }


def ticketing_environment(ticketing: Mapping[str, Any]) -> dict[str, str]:
    """The app settings that make the host verify the ticketing simulator's webhooks and write back to it."""
    return {
        "JIRA_WEBHOOK_SECRETS": str(ticketing["jira"]["webhook_secret"]),
        "SERVICENOW_WEBHOOK_SECRETS": str(ticketing["servicenow"]["webhook_secret"]),
        "STD_WEBHOOK_SECRETS": str(ticketing["std"]["webhook_secret"]),
        "JIRA_BASE_URL": str(ticketing["jira"]["base_url"]),
        "JIRA_USER_EMAIL": str(ticketing["jira"]["user"]),
        "JIRA_API_TOKEN": str(ticketing["jira"]["token"]),
        "SERVICENOW_INSTANCE_URL": str(ticketing["servicenow"]["base_url"]),
        "SERVICENOW_USER": str(ticketing["servicenow"]["user"]),
        "SERVICENOW_PASSWORD": str(ticketing["servicenow"]["password"]),
    }


def host_environment(
    base: Mapping[str, str],
    *,
    arm: Mapping[str, Any],
    connection: str,
    overrides: Mapping[str, str],
    identity: Mapping[str, Any] | None = None,
    ticketing: Mapping[str, Any] | None = None,
) -> tuple[dict[str, str], Settings]:
    """The host's app settings, validated by the app's own Settings class.

    Settings that binding expressions name (queue names, schedules) are set explicitly from their
    defaults, as ``local.settings.json`` or the Function App's app settings would: the host resolves
    ``%NAME%`` from the environment only, not from Settings defaults. ``--env`` overrides win, so
    ``--env REGCTL_AUTH_MODE=...`` still chooses another authentication mode.
    """
    env = dict(base)
    env.update(
        {
            _alias("message_transport"): "storagequeue",
            _alias("queue_storage_connection"): connection,
            _alias("state_storage_connection"): connection,
            _alias("subscription_id"): str(arm["subscription_id"]),
            _alias("arm_endpoint"): str(arm["endpoint"]),
            _alias("arm_ca_bundle"): str(arm["ca_bundle"]),
            _alias("data_ca_bundle"): str(arm["ca_bundle"]),  # the blob proxy is the simulator's, same CA
            _alias("arm_static_token"): STATIC_TOKEN,
        }
    )
    if identity is not None:
        env.update(auth_environment(identity))
    if ticketing is not None:
        env.update(ticketing_environment(ticketing))
    env.update(overrides)
    settings = Settings.model_validate(env)
    for field in (*queue_fields(), "region_sync_schedule", "outbox_relay_schedule"):
        env.setdefault(_alias(field), str(getattr(settings, field)))
    return env, settings


def queue_fields() -> list[str]:
    return [name for name in Settings.model_fields if name.endswith("_queue")]


def provision(connection: str, settings: Settings, extra_queues: Sequence[str] = ()) -> list[str]:
    """Create what infra creates in Azure: the queues, their dead-letter queues, the state tables."""
    queues = [str(getattr(settings, field)) for field in queue_fields()] + list(extra_queues)
    service = QueueServiceClient.from_connection_string(connection)
    for name in [*queues, *(dead_letter_queue(q) for q in queues)]:
        with contextlib.suppress(ResourceExistsError):
            service.create_queue(name)
    tables = TableServiceClient.from_connection_string(connection)
    names = TableStateStore(tables, settings.table_prefix).table_names()
    names += TableAccessStore(tables, settings.table_prefix).table_names()
    names += TableAssetStore(tables, settings.table_prefix).table_names()
    names += TableTicketStore(tables, settings.table_prefix).table_names()
    names += TablePromotionStore(tables, settings.table_prefix).table_names()
    for table in names:
        tables.create_table_if_not_exists(table)
    return queues
