"""The composition root: builds the services from Settings, the same way in Azure and in the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from azure.core.credentials import TokenCredential
from azure.identity import DefaultAzureCredential

from shared.adapters.arm import AzureArmGateway, build_clients
from shared.adapters.credentials import StaticTokenCredential
from shared.adapters.tables import TableStateStore
from shared.ports import MessagePublisher
from shared.services.queueing import Dispatcher, Queues
from shared.services.reconcile import ReconcileConfig, Reconciler
from shared.services.region_sync import RegionSync
from shared.services.registries import RegistryService
from shared.services.steps import RetryPolicy, StepRunner
from shared.settings import Settings, get_settings


@dataclass(frozen=True)
class Container:
    settings: Settings
    credential: TokenCredential
    store: TableStateStore
    registries: RegistryService
    reconciler: Reconciler
    steps: StepRunner
    region_sync: RegionSync


def _publisher(settings: Settings, credential: TokenCredential) -> MessagePublisher:
    if settings.message_transport == "storagequeue":
        from shared.adapters.storage_queue import StorageQueuePublisher  # noqa: PLC0415

        return StorageQueuePublisher.from_settings(settings)
    from shared.adapters.servicebus import ServiceBusPublisher  # noqa: PLC0415

    assert settings.servicebus_namespace is not None
    return ServiceBusPublisher(settings.servicebus_namespace, credential)


def build(settings: Settings) -> Container:
    credential: TokenCredential = (
        StaticTokenCredential(settings.arm_static_token) if settings.arm_static_token else DefaultAzureCredential()
    )
    store = TableStateStore.from_settings(
        connection_string=settings.state_storage_connection,
        endpoint=settings.state_table_endpoint,
        credential=None if settings.state_storage_connection else DefaultAzureCredential(),
        prefix=settings.table_prefix,
    )
    dispatcher = Dispatcher(
        _publisher(settings, credential),
        Queues(reconcile=settings.reconcile_queue, steps=settings.steps_queue),
    )
    arm = AzureArmGateway(
        build_clients(credential, settings.subscription_id, settings.arm_endpoint, settings.arm_ca_bundle),
        settings.arm_max_writes_in_flight,
    )
    reconciler = Reconciler(
        store, arm, dispatcher, ReconcileConfig(settings.resource_group_prefix, settings.lro_poll_seconds)
    )
    policy = RetryPolicy(
        base_seconds=settings.retry_base_seconds,
        max_seconds=settings.retry_max_seconds,
        poll_seconds=settings.lro_poll_seconds,
        max_attempts=settings.max_step_attempts,
    )
    registries = RegistryService(store, dispatcher)
    return Container(
        settings=settings,
        credential=credential,
        store=store,
        registries=registries,
        reconciler=reconciler,
        steps=StepRunner(store, arm, dispatcher, reconciler, policy),
        region_sync=RegionSync(store, arm, registries, reconciler),
    )


@lru_cache(maxsize=1)
def container() -> Container:
    """The process-wide dependencies, built on first use (not at import, so the app imports cleanly)."""
    return build(get_settings())


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
