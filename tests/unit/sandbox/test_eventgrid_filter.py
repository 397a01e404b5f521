"""The event subscription filter of the simulator's system topics, as Event Grid applies it."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.arm.envelope import ArmError
from sandbox.arm.eventgrid import EventSubscription
from sandbox.arm.eventgrid_filter import key_values, matches
from sandbox.arm.eventgrid_properties import subscription_properties

BLOB = "/blobServices/default/containers/models/blobs/fraud/asset.yml"
NOT_OWN = {
    "operatorType": "StringNotBeginsWith",
    "key": "subject",
    "values": ["/blobServices/default/containers/assets/", "/blobServices/default/containers/upload-"],
}
DESTINATION = {"endpointType": "ServiceBusQueue", "properties": {"resourceId": "/x/queues/q"}}
#: The advanced filter regctl puts on its ACR subscriptions (shared/domain/kinds/eventgrid.py).
NOT_ENVIRONMENTS = {"operatorType": "StringNotBeginsWith", "key": "data.target.repository", "values": ["environments/"]}


def subscribed(**flt: object) -> EventSubscription:
    return EventSubscription("s", subscription_properties({"destination": DESTINATION, "filter": flt}))


def event(event_type: str, subject: str, **data: Any) -> dict[str, Any]:
    return {"eventType": event_type, "subject": subject, "topic": "/subscriptions/s/x", "id": "e1", "data": data}


def pushed(repository: str, tag: str = "1") -> dict[str, Any]:
    return event(
        "Microsoft.ContainerRegistry.ImagePushed",
        f"{repository}:{tag}",
        action="push",
        target={"repository": repository, "tag": tag, "size": 1152},
    )


@pytest.mark.parametrize(
    ("flt", "event_type", "subject", "delivered"),
    [
        ({}, "Microsoft.Storage.BlobDeleted", BLOB, True),
        ({"includedEventTypes": ["Microsoft.Storage.BlobCreated"]}, "Microsoft.Storage.BlobCreated", BLOB, True),
        ({"includedEventTypes": ["Microsoft.Storage.BlobCreated"]}, "Microsoft.Storage.BlobDeleted", BLOB, False),
        ({"includedEventTypes": ["microsoft.storage.blobcreated"]}, "Microsoft.Storage.BlobCreated", BLOB, True),
        ({"includedEventTypes": ["All"]}, "Microsoft.Storage.BlobDeleted", BLOB, True),
        ({"subjectBeginsWith": "/blobServices/default/containers/models/"}, "t", BLOB, True),
        ({"subjectBeginsWith": "/blobServices/default/containers/assets/"}, "t", BLOB, False),
        ({"subjectEndsWith": "/asset.yml"}, "t", BLOB, True),
        ({"subjectEndsWith": "/ASSET.YML"}, "t", BLOB, True),
        ({"subjectEndsWith": "/ASSET.YML", "isSubjectCaseSensitive": True}, "t", BLOB, False),
        ({"subjectEndsWith": ".bin"}, "t", BLOB, False),
        ({"advancedFilters": [NOT_OWN]}, "t", BLOB, True),
        ({"advancedFilters": [NOT_OWN]}, "t", "/blobServices/default/containers/assets/blobs/models/f/1/w.bin", False),
        ({"advancedFilters": [NOT_OWN]}, "t", "/blobServices/default/containers/upload-3f/blobs/w.bin", False),
        ({"advancedFilters": [{**NOT_OWN, "operatorType": "StringBeginsWith"}]}, "t", BLOB, False),
    ],
)
def test_the_filter_delivers_by_event_type_and_subject(flt, event_type, subject, delivered):
    assert matches(subscribed(**flt), event(event_type, subject)) is delivered


def test_advanced_filters_read_the_key_they_name_not_the_subject():
    flt = {"advancedFilters": [{**NOT_OWN, "key": "data.url"}]}
    own_subject = "/blobServices/default/containers/assets/b"

    assert matches(subscribed(**flt), event("t", own_subject, url="https://st/models/b")) is True
    assert matches(subscribed(**flt), event("t", BLOB, url="/blobServices/default/containers/assets/b")) is False


def test_regctls_acr_filter_keeps_its_own_environment_images_out():
    flt = subscribed(
        includedEventTypes=["Microsoft.ContainerRegistry.ImagePushed", "Microsoft.ContainerRegistry.ImageDeleted"],
        advancedFilters=[NOT_ENVIRONMENTS],
    )

    assert matches(flt, pushed("team/app")) is True
    assert matches(flt, pushed("environments/sklearn-env", "3")) is False
    assert matches(flt, pushed("Environments/Sklearn-Env", "3")) is False  # string filters ignore case


@pytest.mark.parametrize(
    ("operator", "values", "repository", "delivered"),
    [
        ("StringBeginsWith", ["team/"], "TEAM/app", True),
        ("StringBeginsWith", ["other/", "team/"], "team/app", True),
        ("StringBeginsWith", ["other/"], "team/app", False),
        ("StringEndsWith", ["/APP"], "team/app", True),
        ("StringEndsWith", ["/api"], "team/app", False),
        ("StringNotEndsWith", ["/app"], "team/app", False),
        ("StringNotEndsWith", ["/api"], "team/app", True),
        ("StringContains", ["EAM/A"], "team/app", True),
        ("StringContains", ["x"], "team/app", False),
        ("StringNotContains", ["/"], "team/app", False),
        ("StringNotContains", ["x", "y"], "team/app", True),
        ("StringIn", ["team/app", "b"], "Team/App", True),
        ("StringIn", ["team"], "team/app", False),
        ("StringNotIn", ["team/app"], "team/app", False),
        ("StringNotIn", ["team"], "team/app", True),
    ],
)
def test_every_string_operator_on_a_nested_data_key(operator, values, repository, delivered):
    flt = subscribed(advancedFilters=[{"operatorType": operator, "key": "data.target.repository", "values": values}])

    assert matches(flt, pushed(repository)) is delivered


@pytest.mark.parametrize(
    ("operator", "delivered"),
    [("StringBeginsWith", False), ("StringNotBeginsWith", False), ("StringNotContains", False), ("StringNotIn", True)],
)
def test_a_key_the_event_lacks_fails_every_operator_but_string_not_in(operator, delivered):
    flt = subscribed(advancedFilters=[{"operatorType": operator, "key": "data.target.digest", "values": ["sha256:"]}])

    assert matches(flt, pushed("team/app")) is delivered


def test_filters_are_anded_and_keys_take_any_case_and_cloudevents_names():
    both = subscribed(
        advancedFilters=[
            {"operatorType": "StringIn", "key": "EventType", "values": ["microsoft.containerregistry.imagepushed"]},
            {"operatorType": "StringBeginsWith", "key": "Data.Target.Repository", "values": ["team/"]},
            {"operatorType": "StringIn", "key": "source", "values": ["/subscriptions/s/x"]},
        ]
    )

    assert matches(both, pushed("team/app")) is True
    assert matches(both, pushed("other/app")) is False


def test_numbers_compare_as_text_arrays_only_when_enabled_and_other_operators_are_not_applied():
    sized = subscribed(advancedFilters=[{"operatorType": "StringIn", "key": "data.target.size", "values": ["1152"]}])
    greater = {"operatorType": "NumberGreaterThan", "key": "data.target.size", "value": 9e9}
    numeric = subscribed(advancedFilters=[greater])
    tagged = {"operatorType": "StringIn", "key": "data.tags", "values": ["prod"]}
    with_array = event("t", BLOB, tags=["dev", "PROD"])

    assert matches(sized, pushed("team/app")) is True
    assert matches(numeric, pushed("team/app")) is True
    assert matches(subscribed(advancedFilters=[tagged]), with_array) is False
    assert matches(subscribed(advancedFilters=[tagged], enableAdvancedFilteringOnArrays=True), with_array) is True
    assert key_values(with_array, "data.tags") is None
    assert key_values(with_array, "data.nothing.deeper") is None


def test_a_subscription_refuses_advanced_filters_that_are_not_objects_with_an_operator():
    with pytest.raises(ArmError):
        subscribed(advancedFilters=[{"key": "subject", "values": ["/x"]}])
    with pytest.raises(ArmError):
        subscribed(advancedFilters="subject")
