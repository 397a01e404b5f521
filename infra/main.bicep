// regctl control plane: Function App (Flex Consumption, Python 3.11), Service Bus queues, state storage,
// a user-assigned identity and its role assignments. Deploy at subscription scope:
//   az deployment sub create -l <region> -f infra/main.bicep -p infra/main.parameters.json
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment; used to derive resource names.')
param environmentName string

@description('Region of the control plane (not of the registries it provisions).')
param location string

@description('Object id of a person or group to grant data access for operations, and the first Owner of the control plane (REGCTL_BOOTSTRAP_OWNERS) who grants the other roles (optional).')
param operatorPrincipalId string = ''

@allowed(['jwt', 'easyauth'])
@description('How the API identifies callers: jwt validates Entra ID bearer tokens, easyauth trusts App Service Authentication.')
param authMode string = 'jwt'

@description('Comma-separated audiences a token must be issued for: the API app registration application ID URI and/or client id.')
param authAudiences string = 'api://regctl'

@description('Comma-separated Entra tenant ids whose callers are accepted; empty means the tenant of this deployment.')
param authTenants string = ''

@description('Comma-separated token issuer templates; {tenant} stands for the tenant id of the token.')
param authIssuers string = 'https://login.microsoftonline.com/{tenant}/v2.0,https://sts.windows.net/{tenant}/'

@description('JWKS endpoint of the token signing keys.')
param authJwksUri string = 'https://login.microsoftonline.com/common/discovery/v2.0/keys'

// The web console (console/, built into console/dist by `make setup`) ships in the app package and is served
// by this Function App at /console, next to the API it calls; /console/config.json gives it the sign-in
// settings below. Its sign-in needs an Entra app registration of type single-page application (redirect URI
// https://<app host>/console/) allowed to ask for the API's scope. function_app.py binds HTTP with
// AuthLevel.ANONYMOUS (no function key): the API checks every caller's Entra token itself and the hooks their
// signatures, so a browser loads /console from this app directly; Static Web Apps is not needed.
@description('Application (client) id of the console single-page app registration; empty leaves the console unable to sign in.')
param consoleClientId string = ''

@description('Comma-separated scopes the console asks a token for.')
param consoleScopes string = 'api://regctl/user_impersonation'

@description('NCRONTAB schedule of the region-sync timer.')
param regionSyncSchedule string = '0 */30 * * * *'

@description('Jira Cloud site for ticket write-back (https://{site}.atlassian.net); empty: none.')
param jiraBaseUrl string = ''

@description('Email of the Jira account that writes back (its API token is the Key Vault secret jira-api-token).')
param jiraUserEmail string = ''

@description('ServiceNow instance for ticket write-back (https://{instance}.service-now.com); empty: none.')
param servicenowInstanceUrl string = ''

@description('ServiceNow user that writes back (its password is the Key Vault secret servicenow-password).')
param servicenowUser string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName, app: 'regctl' }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-regctl-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: { name: 'id-regctl-${resourceToken}', location: location, tags: tags }
}

module messaging 'app/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: { name: 'sb-regctl-${resourceToken}', location: location, tags: tags }
}

// regctl's own events (docs/events.md): a custom topic other teams subscribe to; one subscription delivers
// them to regctl's events queue, which is what chains promotions.
module events 'app/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    name: 'evgt-regctl-${resourceToken}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    eventsQueueId: messaging.outputs.eventsQueueId
  }
}

module state 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: { name: 'stregctl${resourceToken}', location: location, tags: tags }
}

// Ticketing secrets (webhook secrets, Jira API token, ServiceNow password): set them in this vault (docs/tickets.md).
module vault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: { name: 'kv-regctl-${take(resourceToken, 13)}', location: location, tags: tags, principalId: identity.outputs.principalId }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: { name: 'regctl-${resourceToken}', location: location, tags: tags }
}

module api 'app/functions.bicep' = {
  name: 'functions'
  scope: rg
  params: {
    name: 'func-regctl-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: state.outputs.name
    deploymentContainerName: state.outputs.deploymentContainerName
    serviceBusNamespaceFqdn: messaging.outputs.fullyQualifiedNamespace
    reconcileQueueName: messaging.outputs.reconcileQueueName
    stepsQueueName: messaging.outputs.stepsQueueName
    operationEventsQueueName: messaging.outputs.operationEventsQueueName
    appInsightsConnectionString: monitoring.outputs.connectionString
    regionSyncSchedule: regionSyncSchedule
    authMode: authMode
    authAudiences: authAudiences
    authTenants: empty(authTenants) ? tenant().tenantId : authTenants
    authIssuers: authIssuers
    authJwksUri: authJwksUri
    bootstrapOwners: operatorPrincipalId
    consoleClientId: consoleClientId
    consoleAuthority: '${environment().authentication.loginEndpoint}${tenant().tenantId}'
    consoleScopes: consoleScopes
    ticketWritebackQueueName: messaging.outputs.ticketWritebackQueueName
    eventsQueueName: messaging.outputs.eventsQueueName
    eventsQueueResourceId: messaging.outputs.eventsQueueId
    eventsMaxDeliveryCount: messaging.outputs.maxDeliveryCount
    eventsDeadLetterAccountId: state.outputs.id
    eventsDeadLetterContainer: state.outputs.deadLetterContainerName
    eventsTopicEndpoint: events.outputs.endpoint
    keyVaultName: vault.outputs.name
    jiraBaseUrl: jiraBaseUrl
    jiraUserEmail: jiraUserEmail
    servicenowInstanceUrl: servicenowInstanceUrl
    servicenowUser: servicenowUser
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    operatorPrincipalId: operatorPrincipalId
    serviceBusNamespaceName: messaging.outputs.name
    storageAccountName: state.outputs.name
    appInsightsName: monitoring.outputs.name
  }
}

// The control plane creates one resource group per registry, so its identity needs Contributor on the
// subscription (docs/operations.md discusses narrowing this with a custom role).
module subscriptionRbac 'app/subscription-rbac.bicep' = {
  name: 'subscription-rbac'
  params: { principalId: identity.outputs.principalId }
}

output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
