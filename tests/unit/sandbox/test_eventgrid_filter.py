"""The event subscription filter of the simulator's system topics, as Event Grid applies it."""

from __future__ import annotations

import pytest

from sandbox.arm.eventgrid import EventSubscription, matches, subscription_properties

BLOB = "/blobServices/default/containers/models/blobs/fraud/asset.yml"
NOT_OWN = {
    "operatorType": "StringNotBeginsWith",
    "key": "subject",
    "values": ["/blobServices/default/containers/assets/", "/blobServices/default/containers/upload-"],
}
DESTINATION = {"endpointType": "ServiceBusQueue", "properties": {"resourceId": "/x/queues/q"}}


def subscribed(**flt: object) -> EventSubscription:
    return EventSubscription("s", subscription_properties({"destination": DESTINATION, "filter": flt}))


@pytest.mark.parametrize(
    ("flt", "event_type", "subject", "delivered"),
    [
        ({}, "Microsoft.Storage.BlobDeleted", BLOB, True),
        ({"includedEventTypes": ["Microsoft.Storage.BlobCreated"]}, "Microsoft.Storage.BlobCreated", BLOB, True),
        ({"includedEventTypes": ["Microsoft.Storage.BlobCreated"]}, "Microsoft.Storage.BlobDeleted", BLOB, False),
        ({"includedEventTypes": ["microsoft.storage.blobcreated"]}, "Microsoft.Storage.BlobCreated", BLOB, True),
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
        ({"advancedFilters": [{**NOT_OWN, "key": "data.url"}]}, "t", "/blobServices/default/containers/assets/b", True),
    ],
)
def test_the_filter_delivers_by_event_type_and_subject(flt, event_type, subject, delivered):
    assert matches(subscribed(**flt), event_type, subject) is delivered
