// Queues with duplicate detection (message_id is the idempotency key), dead-lettering after 10
// deliveries, and a 1 minute lock renewed by the Functions host (host.json maxAutoLockRenewalDuration).
param name string
param location string
param tags object
param reconcileQueueName string = 'regctl-reconcile'
param stepsQueueName string = 'regctl-steps'
param operationEventsQueueName string = 'regctl-operation-events'
param ticketWritebackQueueName string = 'regctl-ticket-writeback'
param eventsQueueName string = 'regctl-events'

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: { disableLocalAuth: true, minimumTlsVersion: '1.2' }
}

// The Function App is told it (EVENTS_MAX_DELIVERY_COUNT): the events function dead-letters an event on
// its last delivery itself, so that the batch it came with is not dead-lettered with it.
var maxDeliveryCount = 10

var queueProperties = {
  requiresDuplicateDetection: true
  duplicateDetectionHistoryTimeWindow: 'PT10M'
  maxDeliveryCount: maxDeliveryCount
  lockDuration: 'PT1M'
  deadLetteringOnMessageExpiration: true
  defaultMessageTimeToLive: 'P14D'
}

resource reconcile 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: reconcileQueueName
  properties: queueProperties
}

resource steps 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: stepsQueueName
  properties: queueProperties
}

// OperationFinished events: one per terminal transition of an operation; duplicate detection drops the
// outbox relay's re-sends (message id = finished:{operation}:{status}).
resource operationEvents 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: operationEventsQueueName
  properties: queueProperties
}

output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
resource ticketWriteback 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: ticketWritebackQueueName
  properties: queueProperties
}

// Events in (docs/events.md): Event Grid delivers one event per message, message id = the event id. Event
// Grid retries for up to 24 hours, so duplicate detection looks back a day; a session-enabled queue cannot
// be an Event Grid handler, so this one has none.
resource events 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: eventsQueueName
  properties: union(queueProperties, { duplicateDetectionHistoryTimeWindow: 'P1D' })
}

output eventsQueueName string = events.name
output eventsQueueId string = events.id
output maxDeliveryCount int = maxDeliveryCount
output reconcileQueueName string = reconcile.name
output stepsQueueName string = steps.name
output operationEventsQueueName string = operationEvents.name
output ticketWritebackQueueName string = ticketWriteback.name
