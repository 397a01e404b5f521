"""How the ARM adapter reads an external source a promotion rule watches (``observe_source``), over a stub of
the resource client's pipeline: a GET of the source by its id (in its own subscription, with its provider's
api version), the system topics of its group of which the one whose ``source`` it is (whatever its name;
none there: of its whole subscription), and that topic's subscriptions, the registry's own told from the
others; a source gone or refused is reported, not raised."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from shared.adapters.arm_eventgrid import EVENTGRID_API, SOURCE_API, observe_source
from shared.domain.rule_sources import SourceKind, WatchedSource

TEAM = "11111111-1111-1111-1111-111111111111"
GROUP = f"/subscriptions/{TEAM}/resourceGroups/team-build"
ACR = WatchedSource(f"{GROUP}/providers/Microsoft.ContainerRegistry/registries/TeamAcr", SourceKind.ACR)
TOPICS = f"{GROUP}/providers/Microsoft.EventGrid/systemTopics"
MINE = "regctl-prod-abcd1234"


class Response:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self._body = status, body
        self.reason = {403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}.get(status, "OK")
        self.headers: dict[str, str] = {"content-type": "application/json"}
        self.content_type = "application/json"
        self.request = HttpRequest("GET", "https://management.azure.com/")

    def json(self) -> Any:
        return self._body

    def text(self, encoding: str | None = None) -> str:
        return json.dumps(self._body)

    @property
    def content(self) -> bytes:
        return self.text().encode()


class Client:
    """``send_request`` answering from a table of URL -> (status, body); every URL asked is kept."""

    def __init__(self, answers: dict[str, tuple[int, Any]]) -> None:
        self.answers, self.asked = answers, []  # type: ignore[var-annotated]

    def send_request(self, request: HttpRequest) -> Response:
        self.asked.append(request.url)
        path = request.url.partition("?")[0]
        status, body = self.answers.get(path, (404, {"error": {"code": "ResourceNotFound", "message": path}}))
        return Response(status, body)


def topic(name: str, source: str, tags: dict[str, str] | None = None, group: str = GROUP) -> dict[str, Any]:
    props = {"source": source, "topicType": "Microsoft.ContainerRegistry.Registries", "provisioningState": "Succeeded"}
    topic_id = f"{group}/providers/Microsoft.EventGrid/systemTopics/{name}"
    return {"id": topic_id, "name": name, "location": "westus", "tags": tags or {}, "properties": props}


def sub(name: str) -> dict[str, Any]:
    return {"name": name, "properties": {"destination": {"endpointType": "ServiceBusQueue"}}}


def test_the_sources_topic_is_found_whatever_its_name_and_the_registrys_subscription_is_told_from_the_others():
    other = ACR.resource_id.replace("TeamAcr", "OtherAcr")
    client = Client(
        {
            ACR.resource_id: (200, {"id": ACR.resource_id, "location": "WestUS"}),
            TOPICS: (200, {"value": [topic("other", other), topic("team-events", ACR.resource_id.lower())]}),
            f"{TOPICS}/team-events/eventSubscriptions": (200, {"value": [sub("webhook"), sub(MINE), sub("zz")]}),
        }
    )
    found = observe_source(client, ACR, MINE)  # type: ignore[arg-type]
    assert (found.exists, found.location, found.problem) == (True, "westus", "")
    assert found.topic is not None and found.topic.name == "team-events"
    assert found.subscription is not None and found.subscription.name == MINE
    assert found.others == ("webhook", "zz")
    assert client.asked[0] == f"{ACR.resource_id}?api-version={SOURCE_API[SourceKind.ACR]}"
    assert client.asked[1] == f"{TOPICS}?api-version={EVENTGRID_API}"


def test_a_source_gone_is_reported_not_found_with_the_topic_left_on_it():
    client = Client(
        {
            TOPICS: (200, {"value": [topic("regctl-teamacr", ACR.resource_id)]}),
            f"{TOPICS}/regctl-teamacr/eventSubscriptions": (200, {"value": []}),
        }
    )
    found = observe_source(client, ACR, MINE)  # type: ignore[arg-type]
    assert (found.exists, found.problem) == (False, "not found")
    assert found.topic is not None and found.subscription is None and found.others == ()


def test_a_source_in_a_group_that_is_gone_has_no_topic():
    found = observe_source(Client({}), ACR, MINE)  # type: ignore[arg-type]
    assert (found.exists, found.topic) == (False, None)


def test_a_source_arm_refuses_to_show_is_reported_with_the_refusal():
    client = Client({ACR.resource_id: (403, {"error": {"code": "AuthorizationFailed", "message": "no"}})})
    found = observe_source(client, ACR, MINE)  # type: ignore[arg-type]
    assert found.exists is False and "refused" in found.problem and "Forbidden" in found.problem


def test_another_failure_is_raised_for_the_gateway_to_classify():
    client = Client({ACR.resource_id: (500, {"error": {"code": "InternalServerError", "message": "boom"}})})
    with pytest.raises(HttpResponseError):
        observe_source(client, ACR, MINE)  # type: ignore[arg-type]


def test_a_topic_someone_made_in_another_group_is_found_through_the_subscriptions_list():
    shared = f"/subscriptions/{TEAM}/resourceGroups/shared-events"
    elsewhere = f"{shared}/providers/Microsoft.EventGrid/systemTopics"
    client = Client(
        {
            ACR.resource_id: (200, {"id": ACR.resource_id, "location": "westus"}),
            TOPICS: (200, {"value": []}),
            f"/subscriptions/{TEAM}/providers/Microsoft.EventGrid/systemTopics": (
                200,
                {"value": [topic("team-events", ACR.resource_id, group=shared)]},
            ),
            f"{elsewhere}/team-events/eventSubscriptions": (200, {"value": [sub(MINE)]}),
        }
    )
    found = observe_source(client, ACR, MINE)  # type: ignore[arg-type]
    assert found.topic is not None and (found.topic.name, found.topic.resource_group) == (
        "team-events",
        "shared-events",
    )
    assert found.subscription is not None and found.subscription.name == MINE


def test_a_topic_in_the_sources_own_group_costs_no_subscription_wide_list():
    client = Client(
        {
            ACR.resource_id: (200, {"id": ACR.resource_id, "location": "westus"}),
            TOPICS: (200, {"value": [topic("regctl-teamacr", ACR.resource_id)]}),
            f"{TOPICS}/regctl-teamacr/eventSubscriptions": (200, {"value": []}),
        }
    )
    found = observe_source(client, ACR, MINE)  # type: ignore[arg-type]
    assert found.topic is not None and found.topic.resource_group == "team-build"
    assert not any(url.startswith(f"/subscriptions/{TEAM}/providers/") for url in client.asked)
