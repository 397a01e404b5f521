"""Token credentials for the ARM clients.

In Azure the bootstrap uses ``DefaultAzureCredential``. A fixed bearer token (``StaticTokenCredential``)
serves endpoints that accept any token, such as the sandbox ARM simulator; the token is never logged.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions


class StaticTokenCredential:
    """A ``TokenCredential`` that always hands out the same bearer token, valid for an hour from now."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("a static token must not be empty")
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:  # never show the token
        return "StaticTokenCredential(<redacted>)"
