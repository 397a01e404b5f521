// One account: the Functions host's own storage, the deployment package container, the state tables, and
// the container Event Grid dead-letters into (events it could not deliver to the events queue).
param name string
param location string
param tags object
param tablePrefix string = 'regctl'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deployment 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'app-package'
}

resource deadLetters 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'eventgrid-deadletter'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in ['Registries', 'Steps', 'Seen', 'Access', 'Activity', 'Assets', 'Tickets', 'Promotions']: {
  parent: tableService
  name: '${tablePrefix}${table}'
}]

output name string = account.name
output id string = account.id
output deploymentContainerName string = deployment.name
output deadLetterContainerName string = deadLetters.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
