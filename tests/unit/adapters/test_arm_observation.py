"""What the ARM adapter reads from azure-mgmt-storage's models: nested models (``primaryEndpoints`` is an
``Endpoints`` model, a mapping but not a dict) arrive as plain dicts, so a storage account's blob endpoint
is seen (assets need it to name the primary region's account)."""

from __future__ import annotations

from azure.mgmt.storage.models import StorageAccount

from shared.adapters.arm_models import observed_storage

WIRE = {
    "id": "/subscriptions/s/resourceGroups/regctl-demo/providers/Microsoft.Storage/storageAccounts/demo00",
    "name": "demo00",
    "location": "eastus",
    "sku": {"name": "Standard_LRS"},
    "tags": {"regctl-registry": "demo", "regctl-region": "eastus", "regctl-index": "0"},
    "properties": {
        "provisioningState": "Succeeded",
        "primaryEndpoints": {"blob": "https://127.0.0.1:8445/demo00/"},
        "networkAcls": {"defaultAction": "Allow", "ipRules": [{"value": "1.2.3.4"}]},
    },
}


def test_a_listed_accounts_blob_endpoint_and_nested_properties_are_plain_json():
    account = StorageAccount._deserialize(WIRE, [])
    found = observed_storage(account)
    assert found is not None
    registry, observed = found
    assert registry == "demo" and observed.blob_endpoint == "https://127.0.0.1:8445/demo00/"
    assert observed.properties["networkAcls"] == {"defaultAction": "Allow", "ipRules": [{"value": "1.2.3.4"}]}
    assert type(observed.properties["primaryEndpoints"]) is dict
