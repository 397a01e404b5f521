// regctl's own events out (docs/events.md): an Event Grid custom topic in Event Grid schema, published to by
// the app's identity (EventGrid Data Sender; local auth off), and the subscription that delivers them to
// regctl's events queue on Service Bus (one event per message, message id = the event id).
param name string
param location string
param tags object
param principalId string
param eventsQueueId string

var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7'

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    inputSchema: 'EventGridSchema'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, eventGridDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// regctl listens to its own AssetVersionAvailable (promotion rules chain through it).
resource toEventsQueue 'Microsoft.EventGrid/topics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'regctl-events-queue'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Regctl.Registries.AssetVersionAvailable']
    }
    destination: {
      endpointType: 'ServiceBusQueue'
      properties: { resourceId: eventsQueueId }
    }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
  }
}

output endpoint string = topic.properties.endpoint
output id string = topic.id
