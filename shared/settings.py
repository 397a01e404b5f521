"""The one Settings class: the only place that reads the environment.

Names are identical in ``local.settings.json.example``, ``infra/`` app settings and the sandbox; a test
cross-checks them. Azure and the sandbox differ only in these values, never in code paths. The ticket
systems' fields are declared in ``settings_tickets.py`` and inherited: still one class, one read.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.domain.arm_resource import DEFAULT_RESOURCE_GROUP
from shared.domain.spec_fields import STORAGE_ID
from shared.settings_tickets import TicketSettings, csv_items


class Settings(TicketSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=True)

    # --- Azure Resource Manager -------------------------------------------------------------------
    subscription_id: str = Field(
        validation_alias="REGCTL_SUBSCRIPTION_ID",
        description="Subscription in which registries' resource groups and resources are created.",
    )
    resource_group_prefix: str = Field(
        default="regctl-",
        validation_alias="REGCTL_RESOURCE_GROUP_PREFIX",
        description="Prefix of each registry's resource group; the lowercase registry name follows it.",
    )
    default_resource_group: str = Field(
        default=DEFAULT_RESOURCE_GROUP,
        pattern=r"^[-\w._()]{1,89}[-\w_()]$",
        validation_alias="REGCTL_DEFAULT_RESOURCE_GROUP",
        description="Resource group the Azure-compatible (ARM-shaped) API lists a registry in when it was "
        "created through /api; one created through the ARM-shaped API is in the group of its path.",
    )
    arm_endpoint: str = Field(
        default="https://management.azure.com",
        validation_alias="ARM_ENDPOINT",
        description="Azure Resource Manager base URL (the sandbox simulator's URL in the sandbox).",
    )
    arm_ca_bundle: str | None = Field(
        default=None,
        validation_alias="ARM_CA_BUNDLE",
        description="PEM bundle that ARM's TLS certificate chains to; unset means the system store.",
    )
    arm_static_token: str | None = Field(
        default=None,
        validation_alias="ARM_STATIC_TOKEN",
        description="A fixed bearer token for ARM endpoints that accept any token (the sandbox). "
        "Unset in Azure, where DefaultAzureCredential (managed identity) is used. Never logged.",
        repr=False,
    )
    arm_max_writes_in_flight: int = Field(
        default=16,
        ge=1,
        validation_alias="ARM_MAX_WRITES_IN_FLIGHT",
        description="Upper bound on concurrent ARM writes from one worker process.",
    )

    # --- Assets (the blob data plane of the registries' storage accounts) ---------------------------
    data_ca_bundle: str | None = Field(
        default=None,
        validation_alias="DATA_CA_BUNDLE",
        description="PEM bundle that the storage accounts' blob endpoints chain to; unset means the system "
        "store (the sandbox's blob proxy has a certificate of the sandbox CA).",
    )
    asset_copies_per_account: int = Field(
        default=8,
        ge=1,
        le=256,
        validation_alias="ASSET_COPIES_PER_ACCOUNT",
        description="Upper bound on concurrent blob copies into one storage account from one worker process, "
        "so one large promotion cannot take every slot of an account.",
    )
    asset_upload_minutes: int = Field(
        default=60,
        ge=5,
        le=24 * 60,
        validation_alias="ASSET_UPLOAD_SAS_MINUTES",
        description="How long a pending upload's write credential (SAS) is valid.",
    )
    asset_download_minutes: int = Field(
        default=60,
        ge=5,
        le=24 * 60,
        validation_alias="ASSET_DOWNLOAD_SAS_MINUTES",
        description="How long a download's read credential (SAS) is valid.",
    )

    # --- Messaging --------------------------------------------------------------------------------
    message_transport: Literal["servicebus", "storagequeue"] = Field(
        default="servicebus",
        validation_alias="MESSAGE_TRANSPORT",
        description="servicebus in Azure; storagequeue publishes to Azure Storage queues (the sandbox "
        "host delivers them to the same functions with Service Bus semantics).",
    )
    servicebus_namespace: str | None = Field(
        default=None,
        validation_alias="ServiceBusConnection__fullyQualifiedNamespace",
        description="Fully qualified Service Bus namespace (identity-based connection).",
    )
    queue_storage_connection: str | None = Field(
        default=None,
        validation_alias="QueueStorageConnection",
        description="Connection string of the storage account whose queues carry messages when "
        "MESSAGE_TRANSPORT=storagequeue.",
        repr=False,
    )
    reconcile_queue: str = Field(
        default="regctl-reconcile",
        validation_alias="RECONCILE_QUEUE_NAME",
        description="Queue of Reconcile messages.",
    )
    steps_queue: str = Field(
        default="regctl-steps",
        validation_alias="STEPS_QUEUE_NAME",
        description="Queue of Step messages.",
    )
    operation_events_queue: str = Field(
        default="regctl-operation-events",
        validation_alias="OPERATION_EVENTS_QUEUE_NAME",
        description="Queue of OperationFinished events (one per terminal transition of an operation).",
    )

    events_queue: str = Field(
        default="regctl-events",
        validation_alias="EVENTS_QUEUE_NAME",
        description="Queue of events in (Event Grid system topics, regctl's own custom topic): the events "
        "handler parses, deduplicates and turns them into promotions (docs/events.md).",
    )
    events_in_parallel: int = Field(
        default=16,
        ge=1,
        le=256,
        validation_alias="EVENTS_IN_PARALLEL",
        description="Events of one batch (host.json maxMessageBatchSize) handled at once by one instance.",
    )
    events_max_delivery_count: int = Field(
        default=10,
        ge=1,
        validation_alias="EVENTS_MAX_DELIVERY_COUNT",
        description="The events queue's maxDeliveryCount (Bicep sets both from one value). A batch whose "
        "failed events were all on their last delivery dead-letters them itself and completes, so the events "
        "handled beside them are not dead-lettered with them.",
    )
    events_queue_resource_id: str = Field(
        default="",
        validation_alias="EVENTS_QUEUE_RESOURCE_ID",
        description="ARM id of the events queue (/subscriptions/.../providers/Microsoft.ServiceBus/namespaces/"
        "{ns}/queues/{EVENTS_QUEUE_NAME}): the destination of the Event Grid subscriptions regctl provisions on "
        "every registry's storage accounts and ACR (kinds system_topic and event_subscription). Empty: none.",
    )
    events_dead_letter_account_id: str = Field(
        default="",
        validation_alias="EVENTS_DEAD_LETTER_ACCOUNT_ID",
        description="ARM id of the storage account Event Grid dead-letters into (events it could not deliver to "
        "the events queue in 30 attempts or 24 hours), set on every event subscription regctl makes. Empty: none "
        "(Event Grid then drops them).",
    )
    events_dead_letter_container: str = Field(
        default="eventgrid-deadletter",
        validation_alias="EVENTS_DEAD_LETTER_CONTAINER",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="The blob container of EVENTS_DEAD_LETTER_ACCOUNT_ID that Event Grid dead-letters into.",
    )
    events_topic_endpoint: str = Field(
        default="",
        validation_alias="REGCTL_EVENTS_TOPIC_ENDPOINT",
        description="Endpoint of the Event Grid custom topic regctl publishes its own events to "
        "(https://{topic}.{region}-1.eventgrid.azure.net/api/events). Empty: the sandbox's stand-in topic, "
        "which delivers them straight to EVENTS_QUEUE_NAME.",
    )

    # --- State ------------------------------------------------------------------------------------
    state_table_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("StateStorage__tableServiceUri", "STATE_TABLE_ENDPOINT"),
        description="Table service URI of the state account (identity-based).",
    )
    state_storage_connection: str | None = Field(
        default=None,
        validation_alias="StateStorageConnection",
        description="Connection string of the state account; used instead of the URI when set (sandbox).",
        repr=False,
    )
    table_prefix: str = Field(
        default="regctl",
        pattern=r"^[A-Za-z][A-Za-z0-9]{0,40}$",
        validation_alias="STATE_TABLE_PREFIX",
        description="Prefix of the state tables (Registries, Steps).",
    )

    # --- Scheduling and retries -------------------------------------------------------------------
    region_sync_schedule: str = Field(
        default="0 */30 * * * *",
        validation_alias="REGION_SYNC_SCHEDULE",
        description="NCRONTAB schedule of the region-sync timer (every 30 minutes by default).",
    )
    outbox_relay_schedule: str = Field(
        default="30 * * * * *",
        validation_alias="OUTBOX_RELAY_SCHEDULE",
        description="NCRONTAB schedule of the relay that sends OperationFinished events a crash left unsent "
        "(every minute by default).",
    )
    applicationinsights_connection_string: str | None = Field(
        default=None,
        validation_alias="APPLICATIONINSIGHTS_CONNECTION_STRING",
        description="Application Insights connection string; when set, traces and logs are exported with "
        "azure-monitor-opentelemetry. Unset in the sandbox: nothing is exported.",
        repr=False,
    )
    retry_base_seconds: float = Field(
        default=2.0, gt=0, validation_alias="RETRY_BASE_SECONDS", description="First backoff delay."
    )
    retry_max_seconds: float = Field(
        default=300.0, gt=0, validation_alias="RETRY_MAX_SECONDS", description="Backoff cap."
    )
    lro_poll_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias="LRO_POLL_SECONDS",
        description="Delay before polling a running ARM operation when ARM gives no Retry-After.",
    )
    max_step_attempts: int = Field(
        default=20,
        ge=1,
        validation_alias="MAX_STEP_ATTEMPTS",
        description="Transient failures of one step before it is recorded Failed.",
    )

    # --- Identity ---------------------------------------------------------------------------------
    auth_mode: Literal["jwt", "easyauth"] = Field(
        default="jwt",
        validation_alias="REGCTL_AUTH_MODE",
        description="How callers are identified: jwt validates Entra ID bearer tokens itself; easyauth reads "
        "X-MS-CLIENT-PRINCIPAL, set by App Service Authentication (only with 'require authentication' on).",
    )
    auth_audiences: str = Field(
        default="api://regctl",
        validation_alias="REGCTL_AUTH_AUDIENCES",
        description="Comma-separated audiences (aud) a token must be issued for: the API's application ID "
        "URI and/or its client id.",
    )
    auth_tenants: str = Field(
        default="",
        validation_alias="REGCTL_AUTH_TENANTS",
        description="Comma-separated Entra tenant ids (tid) whose callers are accepted; none accepts nobody.",
    )
    auth_issuers: str = Field(
        default="https://login.microsoftonline.com/{tenant}/v2.0,https://sts.windows.net/{tenant}/",
        validation_alias="REGCTL_AUTH_ISSUERS",
        description="Comma-separated issuer templates; {tenant} is replaced by the token's tid (v2 and v1 "
        "token issuers by default).",
    )
    auth_jwks_uri: str = Field(
        default="https://login.microsoftonline.com/common/discovery/v2.0/keys",
        validation_alias="REGCTL_AUTH_JWKS_URI",
        description="JWKS endpoint of the token signing keys (the sandbox's Entra stand-in in the sandbox).",
    )
    auth_ca_bundle: str | None = Field(
        default=None,
        validation_alias="REGCTL_AUTH_CA_BUNDLE",
        description="PEM bundle that the JWKS endpoint's TLS certificate chains to; unset means the system store.",
    )
    access_refresh_seconds: float = Field(
        default=2.0,
        gt=0,
        validation_alias="REGCTL_ACCESS_REFRESH_SECONDS",
        description="How often each host instance looks whether role definitions or assignments changed "
        "(one table read); a change takes effect within this many seconds everywhere.",
    )
    bootstrap_owners: str = Field(
        default="",
        validation_alias="REGCTL_BOOTSTRAP_OWNERS",
        description="Comma-separated principal object ids that hold Owner at scope / from the start, so "
        "that someone can grant the first roles.",
    )

    # --- Web console ------------------------------------------------------------------------------
    console_client_id: str = Field(
        default="",
        validation_alias="REGCTL_CONSOLE_CLIENT_ID",
        description="Application (client) id of the console's app registration (a single-page app: "
        "authorization code with PKCE, redirect URI https://<host>/console/). Empty: the console cannot sign in.",
    )
    console_authority: str = Field(
        default="https://login.microsoftonline.com/organizations",
        validation_alias="REGCTL_CONSOLE_AUTHORITY",
        description="Entra authority the console signs in with: https://login.microsoftonline.com/<tenant id>.",
    )
    console_scopes: str = Field(
        default="api://regctl/user_impersonation",
        validation_alias="REGCTL_CONSOLE_SCOPES",
        description="Comma-separated scopes the console asks a token for: a delegated scope the API exposes.",
    )

    @property
    def auth_audience_list(self) -> list[str]:
        return csv_items(self.auth_audiences)

    @property
    def auth_tenant_list(self) -> list[str]:
        return csv_items(self.auth_tenants)

    @property
    def auth_issuer_list(self) -> list[str]:
        return csv_items(self.auth_issuers)

    @property
    def console_scope_list(self) -> list[str]:
        return csv_items(self.console_scopes)

    @property
    def bootstrap_owner_list(self) -> list[str]:
        return csv_items(self.bootstrap_owners)

    @field_validator("events_dead_letter_account_id")
    @classmethod
    def _storage_account_id(cls, value: str) -> str:
        """ARM ids compare without case: the spec's storage account id pattern decides."""
        if value and not STORAGE_ID.match(value):
            raise ValueError("must be a storage account's ARM id (/subscriptions/…/storageAccounts/{name}) or empty")
        return value

    @model_validator(mode="after")
    def _transport_configured(self) -> Settings:
        if self.message_transport == "servicebus" and not self.servicebus_namespace:
            raise ValueError(
                "ServiceBusConnection__fullyQualifiedNamespace is required when MESSAGE_TRANSPORT=servicebus"
            )
        if self.message_transport == "storagequeue" and not self.queue_storage_connection:
            raise ValueError("QueueStorageConnection is required when MESSAGE_TRANSPORT=storagequeue")
        if not self.state_table_endpoint and not self.state_storage_connection:
            raise ValueError("set StateStorage__tableServiceUri (Azure) or StateStorageConnection")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()  # pydantic-settings reads the fields from the environment
