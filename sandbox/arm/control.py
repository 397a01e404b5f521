"""A small typed client of the simulator's ``/_sandbox/`` control surface, for tests and benchmarks.

It deliberately uses plain ``requests`` with ``trust_env = False`` and the simulator's CA bundle: a
machine may preset ``REQUESTS_CA_BUNDLE``, which would otherwise win over ``verify=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict, cast

import requests


class RequestRecord(TypedDict):
    """One ARM request the simulator saw (``status`` 0: the connection was dropped)."""

    method: str
    path: str
    status: int
    op: Literal["read", "write", "delete"]
    t: float


class FaultRule(TypedDict, total=False):
    """A fault rule; give exactly one of ``status`` and ``lro_result`` (blob rules: ``status``; Event Grid
    rules: at least one of ``duplicate``, ``delay``, ``reorder`` and ``fail``, no ``status``)."""

    service: Literal["arm", "blob", "eventgrid"]
    operation: Literal["copy", "read", "list", "write", "delete", "any"]
    account: str
    delay: float
    method: str
    resource_type: str
    status: int
    rate: float
    retry_after: int
    count: int
    lro_result: Literal["Failed", "Canceled"]
    error_code: str
    #: Event Grid rules: the event type matched, extra copies of each matching delivery, the shuffle window,
    #: the failed send attempts of each matching delivery.
    event_type: str
    duplicate: int
    reorder: int
    fail: int


class FaultRuleState(TypedDict):
    """An ARM rule has ``method``, ``status``, ``error_code``, ``resource_type``, ``lro_result`` and
    ``retry_after``; a blob rule ``service``, ``method``, ``status``, ``error_code``, ``operation``,
    ``account`` and ``delay``; an Event Grid rule ``service``, ``event_type``, ``duplicate``, ``delay``,
    ``reorder`` and ``fail``."""

    rate: float
    count: int | None
    hits: int
    method: NotRequired[str | None]
    status: NotRequired[int | None]
    error_code: NotRequired[str | None]
    resource_type: NotRequired[str | None]
    lro_result: NotRequired[str | None]
    retry_after: NotRequired[int]
    service: NotRequired[str]
    operation: NotRequired[str | None]
    account: NotRequired[str | None]
    delay: NotRequired[float]
    event_type: NotRequired[str | None]
    duplicate: NotRequired[int]
    reorder: NotRequired[int]
    fail: NotRequired[int]


class Images(TypedDict):
    registry: str
    #: ``repository:tag``, sorted.
    images: list[str]
    repositories: list[str]
    #: ``repository:tag`` -> the digest of its manifest.
    digests: dict[str, str]


class PushedImage(TypedDict):
    """A tag the push stand-in recorded (or the delete removed), with its manifest."""

    repository: str
    tag: str
    digest: str
    size: int
    mediaType: str


class LatencyConfig(TypedDict):
    time_scale: float
    durations: dict[str, float]


class ControlError(RuntimeError):
    """The control surface refused a request (its message is the simulator's)."""


class SandboxControl:
    """Client of ``{endpoint}/_sandbox/``."""

    def __init__(self, endpoint: str, ca_bundle: str, *, timeout: float = 10.0) -> None:
        self.base = endpoint.rstrip("/") + "/_sandbox"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = ca_bundle
        self.timeout = timeout

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        response = self.session.request(method, f"{self.base}/{path}", json=body, params=params, timeout=self.timeout)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise ControlError(f"{method} /_sandbox/{path}: {response.status_code} {message}")
        return response.json()

    # Log ---------------------------------------------------------------------------------------------

    def requests(self, since: int | None = None) -> list[RequestRecord]:
        params = {"since": str(since)} if since is not None else {}
        return cast(list[RequestRecord], self._call("GET", "requests", params=params))

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def blob_requests(self) -> list[dict[str, Any]]:
        """Blob data-plane requests the proxy served, by operation (``ListBlobs``, ``CopyBlob``...) and account."""
        return cast(list[dict[str, Any]], self._call("GET", "blob/requests"))

    def clear_blob_requests(self) -> None:
        self._call("DELETE", "blob/requests")

    # Faults, throttle, latency ------------------------------------------------------------------------

    def set_faults(self, rules: Sequence[FaultRule], seed: int | None = None) -> list[FaultRuleState]:
        body: dict[str, Any] = {"rules": list(rules)}
        if seed is not None:
            body["seed"] = seed
        return cast(list[FaultRuleState], self._call("PUT", "faults", body)["rules"])

    def faults(self) -> list[FaultRuleState]:
        return cast(list[FaultRuleState], self._call("GET", "faults")["rules"])

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def set_throttle(self, *, enabled: bool = True, scale: float = 1.0) -> None:
        self._call("PUT", "throttle", {"enabled": enabled, "scale": scale})

    def clear_throttle(self) -> None:
        self._call("DELETE", "throttle")

    def set_latency(self, time_scale: float, durations: Mapping[str, float] | None = None) -> LatencyConfig:
        body: dict[str, Any] = {"time_scale": time_scale}
        if durations:
            body["durations"] = dict(durations)
        return cast(LatencyConfig, self._call("PUT", "latency", body))

    # Names, config, state ------------------------------------------------------------------------------

    def set_taken_names(self, storage: Iterable[str] = (), acr: Iterable[str] = ()) -> None:
        self._call("PUT", "taken-names", {"storage": list(storage), "acr": list(acr)})

    def set_config(self, **settings: object) -> dict[str, Any]:
        """``storage_account_quota``, ``page_size``, ``storage_visible_while_creating``, ``home_replica``,
        ``acr_monitor_retry_after``, ``request_log_limit``."""
        return cast(dict[str, Any], self._call("PUT", "config", settings))

    def config(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("GET", "config"))

    def reset(self) -> None:
        self._call("POST", "reset")

    def health(self) -> bool:
        try:
            return bool(self._call("GET", "health").get("status") == "ok")
        except (requests.RequestException, ControlError):
            return False

    def images(self, registry: str) -> Images:
        return cast(Images, self._call("GET", f"registries/{registry}/images"))

    def push_image(
        self,
        registry: str,
        repository: str,
        tag: str,
        digest: str | None = None,
        size: int | None = None,
        *,
        media_type: str | None = None,
    ) -> PushedImage:
        """Play ``docker push`` of ``repository:tag`` to ``registry`` (the Event Grid stand-in sends ImagePushed)."""
        body: dict[str, Any] = {"repository": repository, "tag": tag}
        for key, value in (("digest", digest), ("size", size), ("mediaType", media_type)):
            if value is not None:
                body[key] = value
        return cast(PushedImage, self._call("POST", f"acr/{registry}/push", body))

    def delete_image(self, registry: str, repository: str, tag: str) -> PushedImage:
        """Delete the tag ``repository:tag`` of ``registry`` (the Event Grid stand-in sends ImageDeleted)."""
        return cast(PushedImage, self._call("DELETE", f"acr/{registry}/images/{repository}:{tag}"))
