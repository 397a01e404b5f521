"""Signed ticket webhooks per second, against the store+queue ceiling of ``bench.api``.

``python -m bench.hooks --seconds T [--clients C] [--duplicates 0.25]`` starts its own sandbox (queue workers
parked, as ``bench.api`` does, so the request path is measured alone), gives the tickets' principal Owner at
``/``, and from C concurrent clients (one keep-alive connection each) sends ``POST /api/hooks/jira``: an
approved ``Registry Request`` issue (a three-region YAML in an ADF code block), signed with the sandbox's
Jira webhook secret (``X-Hub-Signature``) under a new ``X-Atlassian-Webhook-Identifier``; a share
``--duplicates`` of the sends re-sends the client's previous delivery (same identifier and body), as Jira
retries do. Each new delivery verifies the signature, maps the ticket and keeps the claim and its answer
in one insert (the event says the ticket is new), then sends one ``start`` message (the consumer, parked
here, would create the registry); a duplicate is the refused insert, one read and the start re-sent.
Then the same clients, for the same time, call ``RegistryService.create`` directly (``bench.api``'s
ceiling). One JSON object on the last line of stdout:

- ``accepted_per_s``: deliveries answered 202 (new) or 200 (duplicate) per second; ``p50_ms``/``p99_ms``;
- ``duplicate_ratio``: duplicates sent / all sent; ``duplicates_answered_200``: whether each got 200 with
  the first answer's body; ``errors``;
- ``ceiling_ops_per_s`` and ``ratio_to_ceiling`` (accepted_per_s / ceiling). Goals (issue 14): p99 <= 100 ms
  at 8 senders, ratio >= 0.7.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.api import PAUSED_POLL_SECONDS, app_dependencies, ceiling_factory
from bench.common import REGION_ORDER, machine, percentile_ms, progress, registry_yaml, sandbox
from bench.load import Call, Connection, drive
from shared.domain.access import Principal
from shared.domain.signatures import hub_signature
from shared.domain.ticket_mapping import DEFAULT_TICKET_PRINCIPAL


def issue_payload(key: str, name: str) -> bytes:
    yaml_text = registry_yaml(name, REGION_ORDER[:3])
    description = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "codeBlock", "content": [{"type": "text", "text": yaml_text}]}],
    }
    fields = {
        "summary": name,
        "issuetype": {"name": "Registry Request"},
        "project": {"key": "BENCH"},
        "status": {"name": "Approved"},
        "labels": [],
        "description": description,
    }
    payload = {
        "timestamp": int(time.time() * 1000),
        "webhookEvent": "jira:issue_created",
        "issue": {"id": key, "key": key, "fields": fields},
    }
    return json.dumps(payload).encode()


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent = 0
        self.duplicates = 0
        self.duplicates_ok = True


def hooks_factory(
    base_url: str, secret: str, share: float, tally: Tally
) -> Callable[[int], tuple[Call, Callable[[], None]]]:
    every = round(1 / share) if share > 0 else 0

    def factory(_: int) -> tuple[Call, Callable[[], None]]:
        api = Connection(base_url)
        previous: list[tuple[bytes, dict[str, str], bytes]] = []

        def call(name: str) -> None:
            with tally.lock:
                tally.sent += 1
                duplicate = bool(every and previous and tally.sent % every == 0)
                tally.duplicates += duplicate
            if duplicate:
                body, headers, first = previous[-1]
                status, answer = api.post("/api/hooks/jira", body, headers)
                if status != 200 or answer != first:
                    with tally.lock:
                        tally.duplicates_ok = False
                    raise RuntimeError(f"duplicate answered {status}: {answer[:200]!r}")
                return
            key = f"B{name.upper().replace('_', '')}-1"
            body = issue_payload(key, name[-32:])
            headers = {
                "Content-Type": "application/json",
                "X-Hub-Signature": hub_signature(secret, body),
                "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
            }
            status, answer = api.post("/api/hooks/jira", body, headers)
            if status != 202 or b"operation" not in answer:
                raise RuntimeError(f"answered {status}: {answer[:200].decode(errors='replace')}")
            previous[:] = [(body, headers, answer)]

        return call, api.close

    return factory


def run(clients: int, seconds: float, warmup: float, share: float, azurite_memory: bool) -> dict[str, Any]:
    env = {"SANDBOX_POLL_MIN_SECONDS": PAUSED_POLL_SECONDS, "SANDBOX_POLL_MAX_SECONDS": PAUSED_POLL_SECONDS}
    with sandbox(1000.0, env, 1, azurite_memory) as (box, _control), app_dependencies(box) as deps:
        owner = Principal(str(box.identity["owner_principal_id"]), "bench owner")
        body = {"scope": "/", "principalId": DEFAULT_TICKET_PRINCIPAL, "roleDefinitionId": "Owner"}
        deps.access.put_assignment(str(uuid.uuid4()), {**body, "principalType": "ServicePrincipal"}, owner)
        time.sleep(deps.settings.access_refresh_seconds + 0.5)  # the host's access snapshot refreshes
        secret = str(box.info["ticketing"]["jira"]["webhook_secret"])
        tally = Tally()
        calls = hooks_factory(box.api.removesuffix("/api"), secret, share, tally)
        hooks = drive(clients, seconds, warmup, calls, tag=f"h{uuid.uuid4().hex[:4]}")
        progress(f"hooks: {clients} clients: {hooks.summary('')} {hooks.samples}")
        ceiling = drive(clients, seconds, warmup, ceiling_factory(deps.registries, REGION_ORDER[:3], False), tag="c")
        progress(f"hooks: ceiling {ceiling.summary('')} {ceiling.samples}")
    rate = len(hooks.latencies) / hooks.elapsed
    ceiling_rate = len(ceiling.latencies) / ceiling.elapsed
    return {
        "benchmark": "hooks",
        "clients": clients,
        "seconds": seconds,
        "accepted": len(hooks.latencies),
        "accepted_per_s": round(rate, 1),
        "p50_ms": percentile_ms(hooks.latencies, 50),
        "p99_ms": percentile_ms(hooks.latencies, 99),
        "errors": hooks.errors,
        "duplicate_ratio": round(tally.duplicates / tally.sent, 3) if tally.sent else 0.0,
        "duplicates_answered_200": tally.duplicates_ok,
        "ceiling_ops_per_s": round(ceiling_rate, 1),
        "ceiling_p99_ms": percentile_ms(ceiling.latencies, 99),
        "ratio_to_ceiling": round(rate / ceiling_rate, 3) if ceiling_rate else 0.0,
        "azurite": "memory" if azurite_memory else "disk",
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hooks", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duplicates", type=float, default=0.25, help="share of sends that repeat a delivery")
    parser.add_argument("--azurite-memory", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.clients, args.seconds, args.warmup, args.duplicates, args.azurite_memory)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
