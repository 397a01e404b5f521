"""The blob data plane of the simulated storage accounts: an HTTPS proxy in front of Azurite.

Each simulated storage account has its own blob endpoint, ``https://{host}:{blob port}/{account}/``
(path-style, as Azure SDKs address IP hosts). The proxy authenticates the request as Azure Storage does
(bearer token, Shared Key with the account's ``listKeys`` keys, service / account / user delegation SAS),
injects the faults of ``"service": "blob"`` rules, then forwards it to the Azurite pool account the
simulated account holds, re-signed with that account's key, and translates Azurite's names in the
answer back to the simulated ones. docs/sandbox.md, "The blob data plane", is the contract.
"""
