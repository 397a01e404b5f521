"""The sandbox's Event Grid stand-in: system topics' events delivered onto the Service Bus stand-in (issue 13).

What it delivers, for the system topics of the ARM simulator (``sandbox/arm/eventgrid.py``) whose
``source`` is where the event happened, to each of their ``Succeeded`` event subscriptions with a
``ServiceBusQueue`` destination whose filter passes (``sandbox/arm/eventgrid_filter.py``: event types,
subject, every string advanced filter on any key of the event):

- ``Microsoft.Storage.BlobCreated`` for every write the blob proxy commits (Put Blob, Put Block List, a
  finished Copy Blob, Copy Blob From URL) and ``Microsoft.Storage.BlobDeleted`` for every Delete Blob
  (``sandbox/blob/hooks.py``);
- ``Microsoft.ContainerRegistry.ImagePushed`` for every tag pushed (``POST /_sandbox/acr/{registry}/push``)
  or written by a completed importImage (one per target tag, in the target registry), and
  ``Microsoft.ContainerRegistry.ImageDeleted`` for every tag deleted (``DELETE /_sandbox/acr/{registry}/
  images/{repository}:{tag}``) (``sandbox/arm/acr_images.py``).

Each lands on the Azurite queue named by the last segment of the destination's ``resourceId``, one event
per message, message id = the event id, with Event Grid's ``aeg-*`` application properties, in the
subscription's ``eventDeliverySchema`` (Event Grid schema or CloudEvents 1.0); the shapes are in
``events.py``. Sends happen on the stand-in's own thread, in order, so no request waits on them
(``standin.py``); ``"service": "eventgrid"`` fault rules duplicate, delay, reorder or fail deliveries
(``schedule.py``). A failed send is retried on Event Grid's schedule, scaled by the time scale, until the
subscription's ``retryPolicy`` runs out (400, 403 and 413 are not retried); then the event is written to
its ``deadLetterDestination`` container or dropped with a warning (``retry.py``, ``deadletter.py``). The
simulator runs it when given an events queue connection (``--events-connection``; ``python -m sandbox up``
gives Azurite's); without one nothing is delivered, but images are still recorded.

Not done: other endpoint types, delivery with a managed identity, ``deliveryAttributeMappings``, the
``Number*`` / ``Bool*`` / ``IsNull*`` advanced filters, events of topics other than storage accounts and
registries; of the retry rules, delayed delivery and probation of failing endpoints, and retrying a
dead-letter write (a failed one drops the event).
"""
