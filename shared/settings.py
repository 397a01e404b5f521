"""The one Settings class: the only place that reads the environment.

Names are identical in ``local.settings.json.example``, ``infra/`` app settings and the sandbox; a test
cross-checks them. Azure and the sandbox differ only in these values, never in code paths.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
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
