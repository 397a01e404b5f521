"""ARM's ``properties`` are kept as plain JSON: the storage SDK hands nested objects (``primaryEndpoints``) over
as models, not dicts, and a registry's blob endpoints must survive that (asset copies and downloads read them)."""

from __future__ import annotations

from azure.mgmt.storage.models import Endpoints, StorageAccount

from shared.adapters.arm_models import observed_storage


def test_a_storage_accounts_blob_endpoint_is_read_from_the_sdks_nested_model():
    account = StorageAccount(
        {
            "name": "acct",
            "location": "eastus",
            "tags": {"regctl-registry": "demo", "regctl-region": "eastus", "regctl-index": "0"},
            "properties": {
                "provisioningState": "Succeeded",
                "primaryEndpoints": Endpoints({"blob": "https://b/acct/"}),
            },
        }
    )
    found = observed_storage(account)
    assert found is not None
    registry, observed = found
    assert registry == "demo"
    assert observed.blob_endpoint == "https://b/acct/"
    assert type(observed.properties["primaryEndpoints"]) is dict
