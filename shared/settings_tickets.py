"""The ticket systems' settings (docs/tickets.md): a part of ``shared.settings.Settings``, which inherits
them; nothing reads this class on its own."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TicketSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=True)

    ticket_mapping_file: str | None = Field(
        default=None,
        validation_alias="TICKET_MAPPING_FILE",
        description="YAML file of the ticket mapping (which tickets are requests, fields, approval, principal); "
        "unset or empty means the built-in defaults.",
    )
    ticket_writeback_queue: str = Field(
        default="regctl-ticket-writeback",
        validation_alias="TICKET_WRITEBACK_QUEUE_NAME",
        description="Queue of writes to tickets (comments, transitions, states), retried with backoff.",
    )
    ticket_progress_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias="TICKET_PROGRESS_SECONDS",
        description="At most one progress comment per ticket this often; also how often progress is checked.",
    )
    ticket_writeback_max_attempts: int = Field(
        default=40,
        ge=1,
        validation_alias="TICKET_WRITEBACK_MAX_ATTEMPTS",
        description="Attempts of one write to a ticket system that is down or throttles, before it is dropped "
        "(logged); the backoff is RETRY_BASE_SECONDS doubling to RETRY_MAX_SECONDS, at least Retry-After.",
    )
    jira_webhook_secrets: str = Field(
        default="",
        validation_alias="JIRA_WEBHOOK_SECRETS",
        description="Comma-separated secrets of the Jira webhook (X-Hub-Signature); two during a rotation. "
        "None refuses every Jira delivery. A Key Vault reference in Azure. Never logged.",
        repr=False,
    )
    servicenow_webhook_secrets: str = Field(
        default="",
        validation_alias="SERVICENOW_WEBHOOK_SECRETS",
        description="Comma-separated Standard Webhooks secrets (whsec_...) of the ServiceNow Business Rule. "
        "A Key Vault reference in Azure. Never logged.",
        repr=False,
    )
    std_webhook_secrets: str = Field(
        default="",
        validation_alias="STD_WEBHOOK_SECRETS",
        description="Comma-separated Standard Webhooks secrets (whsec_...) of /api/hooks/std senders. "
        "A Key Vault reference in Azure. Never logged.",
        repr=False,
    )
    jira_base_url: str = Field(
        default="",
        validation_alias="JIRA_BASE_URL",
        description="Jira Cloud site (https://{site}.atlassian.net) for write-back; unset: no Jira write-back.",
    )
    jira_user_email: str = Field(
        default="",
        validation_alias="JIRA_USER_EMAIL",
        description="Email of the Jira account writing back (basic auth with JIRA_API_TOKEN); unset: "
        "JIRA_API_TOKEN is an OAuth bearer token.",
    )
    jira_api_token: str = Field(
        default="",
        validation_alias="JIRA_API_TOKEN",
        description="Jira API token (or OAuth token). A Key Vault reference in Azure. Never logged.",
        repr=False,
    )
    servicenow_instance_url: str = Field(
        default="",
        validation_alias="SERVICENOW_INSTANCE_URL",
        description="ServiceNow instance (https://{instance}.service-now.com) for write-back; unset: none.",
    )
    servicenow_user: str = Field(
        default="",
        validation_alias="SERVICENOW_USER",
        description="ServiceNow user writing back (basic auth with SERVICENOW_PASSWORD); unset: "
        "SERVICENOW_PASSWORD is an OAuth bearer token.",
    )
    servicenow_password: str = Field(
        default="",
        validation_alias="SERVICENOW_PASSWORD",
        description="ServiceNow password (or OAuth token). A Key Vault reference in Azure. Never logged.",
        repr=False,
    )

    def webhook_secrets(self, source: str) -> list[str]:
        """The active secrets of a webhook source (jira, servicenow, std)."""
        return csv_items(
            {"jira": self.jira_webhook_secrets, "servicenow": self.servicenow_webhook_secrets}.get(
                source, self.std_webhook_secrets
            )
        )


def csv_items(value: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated setting, in order, without repeats."""
    return list(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))
