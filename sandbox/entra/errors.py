"""Entra's OAuth error answers: ``{"error", "error_description": "AADSTS…", "error_codes", …}``.

The description ends with the trace and correlation ids and a timestamp, separated by CRLF, as Entra's
do; ``correlation_id`` echoes the client's ``client-request-id`` header (MSAL sends one) when present.
Codes and wording follow answers seen from login.microsoftonline.com.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class EntraError(Exception):
    status: int
    error: str
    code: int
    message: str

    def body(self, base_url: str, correlation_id: str | None = None) -> dict[str, Any]:
        trace_id = str(uuid.uuid4())
        correlation = correlation_id or str(uuid.uuid4())
        timestamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        description = (
            f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {timestamp}"
        )
        return {
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation,
            "error_uri": f"{base_url}/error?code={self.code}",
        }


def tenant_not_found(tenant: str) -> EntraError:
    return EntraError(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into "
        "the correct cloud. Check with your subscription administrator, this may happen if there are no active "
        "subscriptions for the tenant.",
    )


def missing_parameter(name: str) -> EntraError:
    return EntraError(
        400, "invalid_request", 900144, f"The request body must contain the following parameter: '{name}'."
    )


def unsupported_grant_type(grant_type: str) -> EntraError:
    return EntraError(
        400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'."
    )


def application_not_found(client_id: str, tenant: str) -> EntraError:
    return EntraError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if "
        "the application has not been installed by the administrator of the tenant or consented to by any user in "
        "the tenant. You may have sent your authentication request to the wrong tenant.",
    )


def missing_credential() -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )


def invalid_secret(client_id: str) -> EntraError:
    return EntraError(
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
        f"not the client secret ID, for a secret added to app '{client_id}'.",
    )


def invalid_default_scope(scope: str) -> EntraError:
    return EntraError(
        400,
        "invalid_scope",
        1002012,
        f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
        "/.default suffixed to the resource identifier (application ID URI).",
    )


def resource_not_found(resource: str, tenant: str) -> EntraError:
    return EntraError(
        400,
        "invalid_resource",
        500011,
        f"The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if "
        "the application has not been installed by the administrator of the tenant or consented to by any user in "
        "the tenant. You might have sent your authentication request to the wrong tenant.",
    )


def invalid_code() -> EntraError:
    return EntraError(
        400,
        "invalid_grant",
        70008,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive "
        "authorization request for this user and resource.",
    )


def code_redeemed() -> EntraError:
    return EntraError(
        400,
        "invalid_grant",
        54005,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing "
        "refresh token.",
    )


def verifier_mismatch() -> EntraError:
    return EntraError(
        400,
        "invalid_grant",
        501481,
        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    )


def redirect_mismatch(client_id: str) -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        50011,
        f"The redirect URI specified in the request does not match the redirect URIs configured for the "
        f"application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your "
        "application in the Azure portal.",
    )


def invalid_code_challenge_method() -> EntraError:
    return EntraError(400, "invalid_request", 50149, "Invalid Code_Challenge_method parameter.")
