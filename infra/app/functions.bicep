// The function app on Flex Consumption, Python 3.11, with identity-based connections only.
// App setting names match shared/settings.py (tests/unit/app/test_settings_consistency.py checks them).
param name string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param serviceBusNamespaceFqdn string
param reconcileQueueName string
param stepsQueueName string
param operationEventsQueueName string
param appInsightsConnectionString string
param regionSyncSchedule string
param authMode string
param authAudiences string
param authTenants string
param authIssuers string
param authJwksUri string
param bootstrapOwners string
param consoleClientId string
param consoleAuthority string
param consoleScopes string
param ticketWritebackQueueName string
param eventsQueueName string
@description('ARM id of the events queue: where the Event Grid subscriptions regctl provisions on registries deliver.')
param eventsQueueResourceId string
@description('The events queue\'s maxDeliveryCount (servicebus.bicep).')
param eventsMaxDeliveryCount int
param eventsDeadLetterAccountId string
param eventsDeadLetterContainer string
param eventsTopicEndpoint string
param keyVaultName string
param jiraBaseUrl string
param jiraUserEmail string
param servicenowInstanceUrl string
param servicenowUser string
param maximumInstanceCount int = 40
param instanceMemoryMB int = 2048

// Secrets are Key Vault references, resolved by the platform with the app's identity (keyvault.bicep).
var jiraWebhookSecretsRef = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=jira-webhook-secrets)'
var servicenowWebhookSecretsRef = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=servicenow-webhook-secrets)'
var stdWebhookSecretsRef = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=std-webhook-secrets)'
var jiraApiTokenRef = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=jira-api-token)'
var servicenowPasswordRef = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=servicenow-password)'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identityId}': {} } }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: instanceMemoryMB }
      runtime: { name: 'python', version: '3.11' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        { name: 'AZURE_CLIENT_ID', value: identityClientId }
        { name: 'REGCTL_SUBSCRIPTION_ID', value: subscription().subscriptionId }
        { name: 'REGCTL_RESOURCE_GROUP_PREFIX', value: 'regctl-' }
        { name: 'REGCTL_DEFAULT_RESOURCE_GROUP', value: 'regctl' }
        { name: 'ARM_ENDPOINT', value: environment().resourceManager }
        { name: 'ARM_MAX_WRITES_IN_FLIGHT', value: '16' }
        { name: 'ASSET_COPIES_PER_ACCOUNT', value: '8' }
        { name: 'ASSET_UPLOAD_SAS_MINUTES', value: '60' }
        { name: 'ASSET_DOWNLOAD_SAS_MINUTES', value: '60' }
        { name: 'MESSAGE_TRANSPORT', value: 'servicebus' }
        { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusNamespaceFqdn }
        { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
        { name: 'ServiceBusConnection__clientId', value: identityClientId }
        { name: 'RECONCILE_QUEUE_NAME', value: reconcileQueueName }
        { name: 'STEPS_QUEUE_NAME', value: stepsQueueName }
        { name: 'OPERATION_EVENTS_QUEUE_NAME', value: operationEventsQueueName }
        { name: 'EVENTS_QUEUE_NAME', value: eventsQueueName }
        { name: 'EVENTS_QUEUE_RESOURCE_ID', value: eventsQueueResourceId }
        { name: 'EVENTS_IN_PARALLEL', value: '16' }
        { name: 'EVENTS_MAX_DELIVERY_COUNT', value: string(eventsMaxDeliveryCount) }
        { name: 'EVENTS_DEAD_LETTER_ACCOUNT_ID', value: eventsDeadLetterAccountId }
        { name: 'EVENTS_DEAD_LETTER_CONTAINER', value: eventsDeadLetterContainer }
        { name: 'REGCTL_EVENTS_TOPIC_ENDPOINT', value: eventsTopicEndpoint }
        { name: 'StateStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
        { name: 'STATE_TABLE_PREFIX', value: 'regctl' }
        { name: 'REGION_SYNC_SCHEDULE', value: regionSyncSchedule }
        { name: 'OUTBOX_RELAY_SCHEDULE', value: '30 * * * * *' }
        { name: 'RETRY_BASE_SECONDS', value: '2' }
        { name: 'RETRY_MAX_SECONDS', value: '300' }
        { name: 'LRO_POLL_SECONDS', value: '10' }
        { name: 'MAX_STEP_ATTEMPTS', value: '20' }
        { name: 'REGCTL_AUTH_MODE', value: authMode }
        { name: 'REGCTL_AUTH_AUDIENCES', value: authAudiences }
        { name: 'REGCTL_AUTH_TENANTS', value: authTenants }
        { name: 'REGCTL_AUTH_ISSUERS', value: authIssuers }
        { name: 'REGCTL_AUTH_JWKS_URI', value: authJwksUri }
        { name: 'REGCTL_ACCESS_REFRESH_SECONDS', value: '2' }
        { name: 'REGCTL_BOOTSTRAP_OWNERS', value: bootstrapOwners }
        { name: 'REGCTL_CONSOLE_CLIENT_ID', value: consoleClientId }
        { name: 'REGCTL_CONSOLE_AUTHORITY', value: consoleAuthority }
        { name: 'REGCTL_CONSOLE_SCOPES', value: consoleScopes }
        { name: 'TICKET_MAPPING_FILE', value: '' }
        { name: 'TICKET_WRITEBACK_QUEUE_NAME', value: ticketWritebackQueueName }
        { name: 'TICKET_PROGRESS_SECONDS', value: '60' }
        { name: 'TICKET_WRITEBACK_MAX_ATTEMPTS', value: '40' }
        { name: 'JIRA_WEBHOOK_SECRETS', value: jiraWebhookSecretsRef }
        { name: 'SERVICENOW_WEBHOOK_SECRETS', value: servicenowWebhookSecretsRef }
        { name: 'STD_WEBHOOK_SECRETS', value: stdWebhookSecretsRef }
        { name: 'JIRA_BASE_URL', value: jiraBaseUrl }
        { name: 'JIRA_USER_EMAIL', value: jiraUserEmail }
        { name: 'JIRA_API_TOKEN', value: jiraApiTokenRef }
        { name: 'SERVICENOW_INSTANCE_URL', value: servicenowInstanceUrl }
        { name: 'SERVICENOW_USER', value: servicenowUser }
        { name: 'SERVICENOW_PASSWORD', value: servicenowPasswordRef }
      ]
    }
  }
}

output name string = site.name
output uri string = 'https://${site.properties.defaultHostName}/api'
