targetScope = 'subscription'

param principalId string

var contributor = 'b24988ac-6180-42a0-ab88-20f7382dd24c'

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, contributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Data-plane access (docs/operations.md, "Identity and access"): regctl assigns Storage Blob Data
// Reader/Contributor and AcrPull/AcrPush on the registries' storage accounts and ACRs, which live in resource
// groups it creates itself, so the assignment is at the subscription. It is Role Based Access Control
// Administrator constrained by an ABAC condition to exactly those four roles, for writes and deletes alike:
// regctl cannot grant or remove any other role, itself included.
var rbacAdministrator = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
var dataPlaneRoles = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1, ba92f5b4-2d11-453d-a403-e96b0029c9fe, 7f951dda-4ed3-4680-a7ca-43fe172d538d, 8311e382-0749-4cb8-b61a-304f252e45ec'

resource dataPlaneDelegation 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, rbacAdministrator)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rbacAdministrator)
    principalId: principalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${dataPlaneRoles}})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${dataPlaneRoles}}))'
  }
}

// Assets (docs/assets.md, "In production"): regctl lists, copies and deletes asset blobs in the registries'
// storage accounts and signs user-delegation SASs for uploads, downloads and copy sources, so its identity
// holds Storage Blob Data Contributor (which includes generateUserDelegationKey) where those accounts live:
// in resource groups it creates itself, hence the subscription scope. importImage on the ACRs is covered by
// Contributor above.
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource assetData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, storageBlobDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
