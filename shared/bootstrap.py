"""The composition root: builds the services from Settings, the same way in Azure, in the sandbox and in the
unit tests' world (which hands in fakes of the ports through ``build``'s overrides)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from azure.core.credentials import TokenCredential
from azure.identity import DefaultAzureCredential

from shared.adapters.credentials import StaticTokenCredential
from shared.domain.arm_resource import ArmSite
from shared.domain.kinds import KINDS, eventgrid
from shared.domain.ticket_mapping import Mapping, load_mapping
from shared.ports import (
    AccessStore,
    ArmGateway,
    AssetStore,
    Authenticator,
    DataPlane,
    EventPublisher,
    MessagePublisher,
    PromotionStore,
    StateStore,
    TicketClient,
    TicketStore,
)
from shared.services.access import AccessService
from shared.services.asset_ledger import AssetLedger
from shared.services.assets import AssetConfig, AssetService
from shared.services.event_intake import EventIntake
from shared.services.lifecycle import OperationEventConsumer, OperationLifecycle
from shared.services.observer import Actuator, Observer
from shared.services.promotions import PromotionService
from shared.services.queueing import Dispatcher, Queues
from shared.services.reconcile import Reconciler
from shared.services.reconcile_inputs import ReconcileConfig
from shared.services.regctl_events import RegctlEvents
from shared.services.region_sync import RegionSync
from shared.services.registries import RegistryService
from shared.services.retry import RetryPolicy
from shared.services.steps import StepRunner
from shared.services.ticket_queue import WriteQueue
from shared.services.ticket_writeback import TicketWriteBack
from shared.services.tickets import TicketService
from shared.services.watches import RuleWatches
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Container:
    settings: Settings
    credential: TokenCredential
    store: StateStore
    access_store: AccessStore
    authenticator: Authenticator
    access: AccessService
    arm: ArmGateway
    data_plane: DataPlane
    asset_store: AssetStore
    assets: AssetService
    publisher: MessagePublisher
    dispatcher: Dispatcher
    lifecycle: OperationLifecycle
    operation_events: OperationEventConsumer
    registries: RegistryService
    reconciler: Reconciler
    steps: StepRunner
    region_sync: RegionSync
    tickets: TicketService
    ticket_writeback: TicketWriteBack
    promotions: PromotionService
    event_intake: EventIntake


def _credential(settings: Settings) -> TokenCredential:
    if settings.arm_static_token:
        return StaticTokenCredential(settings.arm_static_token)
    return DefaultAzureCredential()


def _publisher(settings: Settings, credential: TokenCredential) -> MessagePublisher:
    if settings.message_transport == "storagequeue":
        from shared.adapters.storage_queue import StorageQueuePublisher  # noqa: PLC0415

        return StorageQueuePublisher.from_settings(settings)
    from shared.adapters.servicebus import ServiceBusPublisher  # noqa: PLC0415

    assert settings.servicebus_namespace is not None
    return ServiceBusPublisher(settings.servicebus_namespace, credential)


def _store(settings: Settings) -> StateStore:
    from shared.adapters.tables import TableStateStore  # noqa: PLC0415

    return TableStateStore.from_settings(
        connection_string=settings.state_storage_connection,
        endpoint=settings.state_table_endpoint,
        credential=None if settings.state_storage_connection else DefaultAzureCredential(),
        prefix=settings.table_prefix,
    )


def _table_service(settings: Settings) -> Any:
    from azure.data.tables import TableServiceClient  # noqa: PLC0415

    from shared.adapters.tables import RETRY_OPTIONS  # noqa: PLC0415
    from shared.adapters.transport import transport_options  # noqa: PLC0415

    if settings.state_storage_connection:
        return TableServiceClient.from_connection_string(
            settings.state_storage_connection, **RETRY_OPTIONS, **transport_options()
        )
    assert settings.state_table_endpoint is not None
    return TableServiceClient(
        endpoint=settings.state_table_endpoint,
        credential=DefaultAzureCredential(),
        **RETRY_OPTIONS,
        **transport_options(),
    )


def _access_store(settings: Settings) -> AccessStore:
    from shared.adapters.access_tables import TableAccessStore  # noqa: PLC0415

    return TableAccessStore(_table_service(settings), settings.table_prefix)


def _data_plane(settings: Settings, credential: TokenCredential) -> DataPlane:
    from shared.adapters.blob_data import AzureBlobDataPlane  # noqa: PLC0415

    return AzureBlobDataPlane(
        credential, ca_bundle=settings.data_ca_bundle, copies_per_account=settings.asset_copies_per_account
    )


def _asset_store(settings: Settings) -> AssetStore:
    from shared.adapters.asset_tables import TableAssetStore  # noqa: PLC0415

    return TableAssetStore(_table_service(settings), settings.table_prefix)


def _ticket_store(settings: Settings) -> TicketStore:
    from shared.adapters.ticket_tables import TableTicketStore  # noqa: PLC0415

    return TableTicketStore(_table_service(settings), settings.table_prefix)


def _promotion_store(settings: Settings) -> PromotionStore:
    from shared.adapters.promotion_tables import TablePromotionStore  # noqa: PLC0415

    return TablePromotionStore(_table_service(settings), settings.table_prefix)


def _event_publisher(settings: Settings, credential: TokenCredential, publisher: MessagePublisher) -> EventPublisher:
    """The Event Grid custom topic when its endpoint is set; else the sandbox's stand-in topic."""
    from shared.adapters.eventgrid import EventGridTopicPublisher, QueueTopicPublisher  # noqa: PLC0415

    if settings.events_topic_endpoint:
        return EventGridTopicPublisher(settings.events_topic_endpoint, credential)
    return QueueTopicPublisher(publisher, settings.events_queue)


def ticket_mapping(settings: Settings) -> Mapping:
    """The ticket mapping of ``TICKET_MAPPING_FILE``, or the built-in defaults."""
    if not settings.ticket_mapping_file:
        return load_mapping(None)
    with open(settings.ticket_mapping_file, encoding="utf-8") as handle:
        return load_mapping(handle.read())


def _ticket_clients(settings: Settings, mapping: Mapping) -> dict[str, TicketClient]:
    from shared.adapters.ticket_clients import (  # noqa: PLC0415
        JiraClient,
        JsonHttp,
        ServiceNowClient,
        authorization,
    )

    clients: dict[str, TicketClient] = {}
    if settings.jira_base_url:
        auth = authorization(settings.jira_user_email, settings.jira_api_token)
        http = JsonHttp(settings.jira_base_url, auth, "jira")
        clients["jira"] = JiraClient(http, mapping.jira.done_status, mapping.jira.failed_status)
    if settings.servicenow_instance_url:
        auth = authorization(settings.servicenow_user, settings.servicenow_password)
        http = JsonHttp(settings.servicenow_instance_url, auth, "servicenow")
        clients["servicenow"] = ServiceNowClient(http, mapping.servicenow.done_state, mapping.servicenow.failed_state)
    return clients


def _authenticator(settings: Settings) -> Authenticator:
    from shared.adapters.identity import authenticator_from_settings  # noqa: PLC0415

    return authenticator_from_settings(settings)


def _arm(settings: Settings, credential: TokenCredential) -> ArmGateway:
    from shared.adapters.arm import AzureArmGateway, build_clients  # noqa: PLC0415

    clients = build_clients(credential, settings.subscription_id, settings.arm_endpoint, settings.arm_ca_bundle)
    return AzureArmGateway(clients, settings.arm_max_writes_in_flight)


def configure_telemetry(settings: Settings) -> bool:
    """Export traces and logs to Application Insights when its connection string is set (never in the
    sandbox unless asked). True when configured."""
    if not settings.applicationinsights_connection_string:
        return False
    from azure.monitor.opentelemetry import configure_azure_monitor  # noqa: PLC0415

    configure_azure_monitor(connection_string=settings.applicationinsights_connection_string)
    return True


def build(settings: Settings, **overrides: Any) -> Container:
    """Every dependency from ``settings``; ``overrides`` replace any of ``credential``, ``store``, ``arm``,
    ``data_plane``, ``publisher``, ``access_store`` and ``authenticator`` (the unit tests' fakes), and
    ``kinds`` the kinds of work planned and ``grants`` a GrantSource in place of the access service (the
    tests' own), ``ticket_store`` and ``ticket_clients`` (source -> TicketClient), ``promotion_store`` and
    ``event_publisher``; everything above them is built on those."""
    unknown = set(overrides) - {
        "credential",
        "store",
        "access_store",
        "authenticator",
        "arm",
        "data_plane",
        "asset_store",
        "publisher",
        "kinds",
        "grants",
        "ticket_store",
        "ticket_clients",
        "promotion_store",
        "event_publisher",
    }
    if unknown:
        raise TypeError(f"build() cannot override {sorted(unknown)}")
    credential: TokenCredential = overrides.get("credential") or _credential(settings)
    store: StateStore = overrides.get("store") or _store(settings)
    arm: ArmGateway = overrides.get("arm") or _arm(settings, credential)
    data_plane: DataPlane = overrides.get("data_plane") or _data_plane(settings, credential)
    asset_store: AssetStore = overrides.get("asset_store") or _asset_store(settings)
    publisher: MessagePublisher = overrides.get("publisher") or _publisher(settings, credential)
    dispatcher = Dispatcher(
        publisher,
        Queues(
            reconcile=settings.reconcile_queue,
            steps=settings.steps_queue,
            operation_events=settings.operation_events_queue,
        ),
    )
    policy = RetryPolicy(
        base_seconds=settings.retry_base_seconds,
        max_seconds=settings.retry_max_seconds,
        poll_seconds=settings.lro_poll_seconds,
        max_attempts=settings.max_step_attempts,
    )
    lifecycle = OperationLifecycle(store, dispatcher)
    access_store: AccessStore = overrides.get("access_store") or _access_store(settings)
    access = AccessService(
        access_store,
        store,
        lifecycle,
        bootstrap_owners=settings.bootstrap_owner_list,
        refresh_seconds=settings.access_refresh_seconds,
    )
    event_publisher: EventPublisher = overrides.get("event_publisher") or _event_publisher(
        settings, credential, publisher
    )
    regctl_events = RegctlEvents(event_publisher)
    ledger = AssetLedger(store, asset_store, data_plane, regctl_events)
    eventgrid.configure(  # the Event Grid kinds are inert without the queue
        settings.events_queue_resource_id, settings.events_dead_letter_account_id, settings.events_dead_letter_container
    )
    promotion_store: PromotionStore = overrides.get("promotion_store") or _promotion_store(settings)
    reconciler = Reconciler(
        store,
        Observer(arm, data_plane),
        dispatcher,
        lifecycle,
        config=ReconcileConfig(settings.resource_group_prefix, settings.lro_poll_seconds),
        retry=policy,
        kinds=overrides.get("kinds") or KINDS,
        grants=overrides.get("grants") or access,
        lanes=ledger,
        watches=RuleWatches(promotion_store),  # the external sources of promotion rules, per target
    )
    assets = AssetService(
        store,
        asset_store,
        data_plane,
        lifecycle,
        AssetConfig(
            settings.subscription_id,
            settings.resource_group_prefix,
            upload_minutes=settings.asset_upload_minutes,
            download_minutes=settings.asset_download_minutes,
        ),
    )
    registries = RegistryService(
        store, dispatcher, lifecycle, access, default_resource_group=settings.default_resource_group
    )
    mapping = ticket_mapping(settings)
    ticket_store: TicketStore = overrides.get("ticket_store") or _ticket_store(settings)
    writes = WriteQueue(publisher, settings.ticket_writeback_queue)
    clients = overrides.get("ticket_clients")
    promotions = PromotionService(store, asset_store, promotion_store, access, lifecycle, data=data_plane)
    tickets = TicketService(
        ticket_store,
        registries,
        access,
        writes,
        promotions=promotions,
        mapping=mapping,
        progress_seconds=settings.ticket_progress_seconds,
    )
    writeback = TicketWriteBack(
        ticket_store,
        store,
        clients if clients is not None else _ticket_clients(settings, mapping),
        writes,
        progress_seconds=settings.ticket_progress_seconds,
        retry_base_seconds=settings.retry_base_seconds,
        retry_max_seconds=settings.retry_max_seconds,
        max_attempts=settings.ticket_writeback_max_attempts,
        starter=tickets.start,
    )
    return Container(
        settings=settings,
        credential=credential,
        store=store,
        access_store=access_store,
        authenticator=overrides.get("authenticator") or _authenticator(settings),
        access=access,
        arm=arm,
        data_plane=data_plane,
        asset_store=asset_store,
        assets=assets,
        publisher=publisher,
        dispatcher=dispatcher,
        lifecycle=lifecycle,
        operation_events=OperationEventConsumer(store, [writeback.on_finished, regctl_events.on_finished]),
        registries=registries,
        reconciler=reconciler,
        steps=StepRunner(store, Actuator(arm, data_plane), dispatcher, reconciler, lifecycle=lifecycle, policy=policy),
        region_sync=RegionSync(store, arm, registries, reconciler),
        tickets=tickets,
        ticket_writeback=writeback,
        promotions=promotions,
        event_intake=EventIntake(
            store,
            promotions,
            promotion_store,
            parallel=settings.events_in_parallel,
            max_deliveries=settings.events_max_delivery_count,
        ),
    )


def arm_site(settings: Settings) -> ArmSite:
    """What the Azure-compatible surface names: regctl's subscription, groups and tenant."""
    tenants = settings.auth_tenant_list
    return ArmSite(
        subscription_id=settings.subscription_id,
        default_group=settings.default_resource_group,
        group_prefix=settings.resource_group_prefix,
        tenant_id=tenants[0] if tenants else None,
    )


@lru_cache(maxsize=1)
def container() -> Container:
    """The process-wide dependencies, built on first use (not at import, so the app imports cleanly)."""
    settings = get_settings()
    configure_telemetry(settings)
    return build(settings)


def health() -> dict[str, bool]:
    """Liveness of the state store and the ARM credential (each check is one cheap call)."""
    checks: dict[str, bool] = {}
    try:
        deps = container()
    except Exception:
        return {"configuration": False}
    try:
        deps.store.ping()
        checks["store"] = True
    except Exception:
        checks["store"] = False
    try:
        deps.credential.get_token("https://management.azure.com/.default")
        checks["arm_credential"] = True
    except Exception:
        checks["arm_credential"] = False
    return checks
