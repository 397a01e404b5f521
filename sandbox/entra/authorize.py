"""``/{tenant}/oauth2/v2.0/authorize``: a page to pick who signs in, then a redirect with a code.

GET checks the request as Entra does before showing anything (an unknown client or a redirect URI
that is not registered get an error page, never a redirect), then shows the directory's users and a
form for any other principal. Submitting the form (POST to the same path, the request's parameters
carried along) issues a code and redirects to ``redirect_uri`` with ``code`` and ``state``, in the
query (default), the fragment, or an auto-submitted form (``response_mode=form_post``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from sandbox.entra import errors
from sandbox.entra.config import ANY_REDIRECT_URI
from sandbox.entra.directory import Client
from sandbox.entra.oauth import CODE_CHALLENGE_METHODS, TokenService, split_scopes
from sandbox.entra.tokens import Principal, PrincipalType

#: The authorize request's parameters the page carries to its form.
CARRIED = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;color:#1b1b1b}"
    "button{display:block;width:100%;margin:.4rem 0;padding:.6rem;text-align:left;font-size:1rem}"
    "input,select{width:100%;margin:.2rem 0 .6rem;padding:.4rem}small{color:#555}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status)


def error_page(error: errors.EntraError) -> HTMLResponse:
    message = html.escape(f"AADSTS{error.code}: {error.message}")
    return _page("Sign in", f"<h1>Sorry, but we're having trouble signing you in.</h1><p>{message}</p>", 400)


def _redirect_allowed(client: Client, redirect_uri: str) -> bool:
    return ANY_REDIRECT_URI in client.redirect_uris or redirect_uri in client.redirect_uris


def check_request(service: TokenService, params: Mapping[str, str]) -> Client:
    """What Entra refuses with an error page (no redirect, since the redirect URI is not trusted)."""
    client_id = params.get("client_id", "")
    if not client_id:
        raise errors.missing_parameter("client_id")
    client = service.directory.client(client_id)
    if client is None:
        raise errors.application_not_found(client_id, service.tenant_name)
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not _redirect_allowed(client, redirect_uri):
        raise errors.redirect_mismatch(client.client_id)
    return client


def redirect_error(params: Mapping[str, str], error: str, description: str) -> Response:
    return _respond(params, {"error": error, "error_description": description})


def request_problem(service: TokenService, params: Mapping[str, str], client: Client) -> tuple[str, str] | None:
    """Problems Entra reports back to the (trusted) redirect URI as ``(error, error_description)``."""
    try:
        _check_grant_request(service, params, client)
    except errors.EntraError as err:
        return err.error, f"AADSTS{err.code}: {err.message}"
    return None


def _check_grant_request(service: TokenService, params: Mapping[str, str], client: Client) -> None:
    if params.get("response_type") != "code":
        raise errors.EntraError(400, "unsupported_response_type", 700054, "response_type must be 'code' here.")
    if not params.get("scope"):
        raise errors.missing_parameter("scope")
    resource, _, _ = split_scopes(params["scope"])
    if resource is not None and service.known_audience(resource) is None:
        raise errors.resource_not_found(resource, service.tenant_name)
    method = params.get("code_challenge_method") or "plain"
    if params.get("code_challenge") and method not in CODE_CHALLENGE_METHODS:
        raise errors.invalid_code_challenge_method()
    if client.public and not params.get("code_challenge"):
        raise errors.EntraError(
            400,
            "invalid_request",
            9002325,
            "Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
        )


def picker(service: TokenService, params: Mapping[str, str], client: Client) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in CARRIED
        if params.get(name)
    )
    buttons = "".join(
        f'<button name="principal_id" value="{html.escape(user.object_id)}">{html.escape(user.display_name)}'
        f"<br><small>{html.escape(user.username or '')} · {html.escape(user.object_id)}</small></button>"
        for user in service.directory.users.values()
    )
    types = "".join(f'<option value="{kind.value}">{kind.value}</option>' for kind in PrincipalType)
    body = (
        f"<h1>Pick an account</h1><p>to continue to <b>{html.escape(client.display_name)}</b> "
        f"<small>(regctl sandbox sign-in)</small></p>"
        f'<form method="post">{hidden}{buttons}</form>'
        f'<h2>Another principal</h2><form method="post">{hidden}'
        '<label>Object id<input name="principal_id" required pattern="[0-9a-fA-F-]{36}"></label>'
        '<label>Display name<input name="name"></label>'
        f'<label>Type<select name="type">{types}</select></label>'
        "<button>Sign in</button></form>"
    )
    return _page("Sign in to your account", body)


def chosen_principal(service: TokenService, form: Mapping[str, str]) -> Principal | None:
    object_id = form.get("principal_id", "").strip().lower()
    if not object_id:
        return None
    known = service.directory.users.get(object_id)
    if known is not None:
        return known
    try:
        kind = PrincipalType(form.get("type") or PrincipalType.USER.value)
    except ValueError:
        return None
    name = form.get("name") or f"Sandbox {kind.value} {object_id[:8]}"
    username = f"{object_id[:8]}@{service.tenant_name}" if kind is PrincipalType.USER else None
    return Principal(object_id, name, kind, username)


def complete(service: TokenService, form: Mapping[str, str], client: Client, principal: Principal) -> Response:
    code = service.issue_code(
        client,
        redirect_uri=form["redirect_uri"],
        principal=principal,
        scope=form.get("scope", ""),
        code_challenge=form.get("code_challenge") or None,
        code_challenge_method=form.get("code_challenge_method") or "plain",
        nonce=form.get("nonce") or None,
    )
    return _respond(form, {"code": code})


def _respond(params: Mapping[str, str], values: dict[str, str]) -> Response:
    if params.get("state"):
        values["state"] = params["state"]
    redirect_uri = params["redirect_uri"]
    mode = params.get("response_mode") or "query"
    if mode == "form_post":
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in values.items()
        )
        body = (
            f'<form method="post" action="{html.escape(redirect_uri)}">{fields}</form>'
            "<script>document.forms[0].submit()</script>"
        )
        return _page("Working...", body)
    parts = urlsplit(redirect_uri)
    if mode == "fragment":
        location = urlunsplit(parts._replace(fragment=urlencode(values)))
    else:
        query = "&".join(p for p in (parts.query, urlencode(values)) if p)
        location = urlunsplit(parts._replace(query=query))
    return RedirectResponse(location, status_code=302)
