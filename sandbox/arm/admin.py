"""The ``/_sandbox/`` control surface (not ARM): what tests and benchmarks use to steer the simulator.

Stable contract (docs/sandbox.md): no auth, never faulted or throttled, never in the request log.
Bad bodies answer 400 ``{"error": {"code": "InvalidSandboxRequest", "message"}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox.arm import acr_push
from sandbox.arm.acr_images import ImageHooks
from sandbox.arm.config import HomeReplica, OpKind
from sandbox.arm.envelope import Response, error_response
from sandbox.arm.faults import FaultConfigError, FaultEngine, parse_rules
from sandbox.arm.http import Request
from sandbox.arm.state import Store
from sandbox.arm.throttle import Throttle


class BadRequest(ValueError):
    """A control request the surface refuses (400)."""


def _ok(obj: object) -> Response:
    return Response.json(200, obj)


def _body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        parsed = json.loads(request.body)
    except ValueError as err:
        raise BadRequest(f"the body is not JSON: {err}") from err
    if not isinstance(parsed, dict):
        raise BadRequest("the body must be a JSON object")
    return parsed


def _number(body: dict[str, Any], key: str, *, minimum: float, default: float | None = None) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise BadRequest(f"'{key}' must be a number >= {minimum}")
    return float(value)


def _names(body: dict[str, Any], key: str) -> set[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadRequest(f"'{key}' must be a list of names")
    return {v.lower() for v in value}


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_home_replica(value: object) -> bool:
    return isinstance(value, str) and value in {h.value for h in HomeReplica}


#: ``PUT /_sandbox/config`` keys -> (is valid, convert, what a valid value is).
_CONFIG_FIELDS: dict[str, tuple[Callable[[object], bool], Callable[[Any], object], str]] = {
    "storage_account_quota": (_is_count, int, "an integer >= 1"),
    "page_size": (_is_count, int, "an integer >= 1"),
    "storage_visible_while_creating": (lambda v: isinstance(v, bool), bool, "a boolean"),
    "acr_monitor_retry_after": (lambda v: isinstance(v, bool), bool, "a boolean"),
    "request_log_limit": (_is_count, int, "an integer >= 1"),
    "home_replica": (_is_home_replica, HomeReplica, f"one of {[h.value for h in HomeReplica]}"),
}


class ControlSurface:
    def __init__(
        self, store: Store, faults: FaultEngine, throttle: Throttle, image_hooks: ImageHooks | None = None
    ) -> None:
        self.store = store
        self.faults = faults
        self.throttle = throttle
        self.image_hooks = image_hooks or ImageHooks()
        self._routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "health"): lambda _: _ok({"status": "ok"}),
            ("GET", "requests"): self._get_requests,
            ("DELETE", "requests"): self._clear_requests,
            ("GET", "blob/requests"): lambda _: _ok(self.store.blob_request_counts()),
            ("DELETE", "blob/requests"): self._clear_blob_requests,
            ("GET", "faults"): self._get_faults,
            ("PUT", "faults"): self._put_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "throttle"): lambda _: _ok(self.throttle.as_json()),
            ("PUT", "throttle"): self._put_throttle,
            ("DELETE", "throttle"): self._clear_throttle,
            ("GET", "latency"): self._get_latency,
            ("PUT", "latency"): self._put_latency,
            ("GET", "taken-names"): self._get_taken,
            ("PUT", "taken-names"): self._put_taken,
            ("GET", "config"): lambda _: _ok(self.store.settings.as_json()),
            ("PUT", "config"): self._put_config,
            ("POST", "reset"): self._reset,
        }

    def handle(self, request: Request) -> Response:
        parts = request.segments[1:]
        with self.store.lock:
            try:
                if len(parts) >= 3 and parts[0] in ("registries", "acr"):
                    return self._registry_route(request, parts)
                key = "/".join(parts)
                handler = self._routes.get((request.method, key))
                if handler is None:
                    if any(k == key for _, k in self._routes):
                        return error_response(405, "MethodNotAllowed", f"{request.method} is not supported on {key}.")
                    return error_response(404, "NotFound", f"No control route '/_sandbox/{key}'.")
                return handler(request)
            except (BadRequest, FaultConfigError) as err:
                return error_response(400, "InvalidSandboxRequest", str(err))

    # Request log -------------------------------------------------------------------------------------

    def _get_requests(self, request: Request) -> Response:
        since = request.query.get("since", "0")
        if not since.isdigit():
            raise BadRequest("'since' must be a non-negative integer index")
        return _ok(self.store.requests_since(int(since)))

    def _clear_blob_requests(self, _: Request) -> Response:
        cleared = sum(self.store.blob_requests.values())
        self.store.blob_requests.clear()
        return _ok({"cleared": cleared})

    def _clear_requests(self, _: Request) -> Response:
        return _ok({"cleared": self.store.clear_request_log()})

    # Faults --------------------------------------------------------------------------------------

    def _get_faults(self, _: Request) -> Response:
        return _ok({"rules": [r.as_json() for r in self.faults.rules]})

    def _put_faults(self, request: Request) -> Response:
        rules, seed = parse_rules(_body(request))
        self.faults.configure(rules, seed)
        return _ok({"rules": [r.as_json() for r in rules], "seed": seed})

    def _clear_faults(self, _: Request) -> Response:
        self.faults.clear()
        return _ok({"rules": []})

    # Throttle ------------------------------------------------------------------------------------

    def _put_throttle(self, request: Request) -> Response:
        body = _body(request)
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise BadRequest("'enabled' must be a boolean")
        scale = _number(body, "scale", minimum=1e-6, default=1.0)
        self.throttle.configure(enabled, scale)
        return _ok(self.throttle.as_json())

    def _clear_throttle(self, _: Request) -> Response:
        self.throttle.configure(False, 1.0)
        return _ok(self.throttle.as_json())

    # Latency ---------------------------------------------------------------------------------------

    def _get_latency(self, _: Request) -> Response:
        settings = self.store.settings
        return _ok(
            {
                "time_scale": settings.time_scale,
                "durations": {k.value: v for k, v in settings.durations.items()},
            }
        )

    def _put_latency(self, request: Request) -> Response:
        body = _body(request)
        unknown = set(body) - {"time_scale", "durations"}
        if unknown:
            raise BadRequest(f"unknown keys {sorted(unknown)}; allowed: time_scale, durations")
        settings = self.store.settings
        scale = _number(body, "time_scale", minimum=0.0, default=settings.time_scale)
        durations = body.get("durations", {})
        if not isinstance(durations, dict):
            raise BadRequest("'durations' must map operation kinds to seconds")
        parsed: dict[OpKind, float] = {}
        for name in durations:
            try:
                kind = OpKind(name)
            except ValueError as err:
                raise BadRequest(f"unknown operation kind '{name}'; known: {[k.value for k in OpKind]}") from err
            parsed[kind] = _number(durations, name, minimum=0.0)
        settings.time_scale = scale
        settings.durations.update(parsed)
        return self._get_latency(request)

    # Taken names and config ----------------------------------------------------------------------

    def _get_taken(self, _: Request) -> Response:
        settings = self.store.settings
        return _ok({"storage": sorted(settings.taken_storage_names), "acr": sorted(settings.taken_registry_names)})

    def _put_taken(self, request: Request) -> Response:
        body = _body(request)
        unknown = set(body) - {"storage", "acr"}
        if unknown:
            raise BadRequest(f"unknown keys {sorted(unknown)}; allowed: storage, acr")
        settings = self.store.settings
        settings.taken_storage_names = _names(body, "storage")
        settings.taken_registry_names = _names(body, "acr")
        return self._get_taken(request)

    def _put_config(self, request: Request) -> Response:
        body = _body(request)
        unknown = set(body) - set(_CONFIG_FIELDS)
        if unknown:
            raise BadRequest(f"unknown keys {sorted(unknown)}; allowed: {sorted(_CONFIG_FIELDS)}")
        parsed: dict[str, object] = {}
        for key, value in body.items():
            valid, convert, expected = _CONFIG_FIELDS[key]
            if not valid(value):
                raise BadRequest(f"'{key}' must be {expected}")
            parsed[key] = convert(value)
        settings = self.store.settings
        for key, value in parsed.items():
            setattr(settings, key, value)
        return _ok(settings.as_json())

    # Reset and images ----------------------------------------------------------------------------

    def _reset(self, _: Request) -> Response:
        """Forget everything; settings go back to what the command line said."""
        self.store.clear()
        self.store.restore_startup_settings()
        self.faults.clear()
        self.throttle.configure(False, 1.0)
        return _ok({"reset": True})

    def _images(self, name: str) -> Response:
        reg = self.store.registries.get(name.lower())
        if reg is None:
            return error_response(404, "RegistryNotFound", f"No registry named '{name}'.")
        digests = {f"{repo}:{tag}": m.digest for repo, tags in reg.images.items() for tag, m in tags.items()}
        return _ok(
            {
                "registry": reg.name,
                "images": sorted(digests),
                "repositories": sorted(reg.images),
                "digests": dict(sorted(digests.items())),
            }
        )

    def _registry_route(self, request: Request, parts: list[str]) -> Response:
        """``registries/{name}/images``, ``acr/{name}/...``: routes with a registry name in them."""
        if parts[0] == "acr":
            return self._acr(request, parts[1], parts[2:])
        if len(parts) != 3 or parts[2] != "images":
            return error_response(404, "NotFound", f"No control route '/_sandbox/{'/'.join(parts)}'.")
        if request.method != "GET":
            return error_response(405, "MethodNotAllowed", "Use GET.")
        return self._images(parts[1])

    def _acr(self, request: Request, name: str, rest: list[str]) -> Response:
        """``POST acr/{name}/push``, ``DELETE acr/{name}/images/{repository}:{tag}`` (``acr_push.py``)."""
        agent = request.headers.get("user-agent", "")
        if rest == ["push"]:
            if request.method != "POST":
                return error_response(405, "MethodNotAllowed", "Use POST.")
            return acr_push.push(self.store, self.image_hooks, name, _body(request), agent)
        if rest[0] == "images" and len(rest) >= 2:
            if request.method != "DELETE":
                return error_response(405, "MethodNotAllowed", "Use DELETE.")
            return acr_push.delete(self.store, self.image_hooks, name, "/".join(rest[1:]), agent)
        return error_response(404, "NotFound", f"No control route '/_sandbox/acr/{name}/{'/'.join(rest)}'.")
