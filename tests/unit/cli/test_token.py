"""The bearer token: ``$REGCTL_TOKEN``, else one for ``$REGCTL_SCOPE`` from the credential, else none.

The commands run against the real app over fakes (``CliWorld``, whose authenticator knows ``OWNER_TOKEN``;
``default_token = None`` so that the harness adds no token of its own); the credential is a fake handed
over through ``Runtime(credential=...)``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import DefaultAzureCredential

from regctl.auth import REFRESH_MARGIN, CredentialTokens, default_credential
from regctl.runtime import Runtime
from tests.unit.cli.harness import DEMO_1, CliWorld
from tests.unit.services.fake_access import OWNER_TOKEN

TOKEN = OWNER_TOKEN
SCOPE = "api://regctl/.default"


def world() -> CliWorld:
    """A CliWorld that sends only what the CLI sends, whose authenticator also takes the fake credential's tokens."""
    cli = CliWorld()
    cli.default_token = None
    owner = cli.world.authenticator.tokens[OWNER_TOKEN]
    cli.world.authenticator.tokens.update({f"cred-token-{i}": owner for i in (1, 2, 3)})
    return cli


@dataclass
class FakeCredential:
    tokens: list[str] = field(default_factory=lambda: ["cred-token-1", "cred-token-2", "cred-token-3"])
    lifetime: float = 3600.0
    now: float = field(default_factory=time.time)
    fail: Exception | None = None
    made: int = 0
    asked: list[tuple[str, ...]] = field(default_factory=list)
    closed: bool = False

    def factory(self) -> FakeCredential:
        self.made += 1
        return self

    def get_token(self, *scopes: str) -> AccessToken:
        self.asked.append(scopes)
        if self.fail is not None:
            raise self.fail
        return AccessToken(self.tokens[len(self.asked) - 1], int(self.now + self.lifetime))

    def close(self) -> None:
        self.closed = True


def authorizations(requests: list[httpx.Request]) -> list[str | None]:
    return [r.headers.get("authorization") for r in requests]


# --- REGCTL_TOKEN ----------------------------------------------------------------------------------------


def test_regctl_token_is_sent_as_a_bearer_token_on_every_request_of_a_wait():
    cli = world()

    result = cli.run("registry", "create", "--file", str(DEMO_1), "--wait", env={"REGCTL_TOKEN": TOKEN})

    assert result.exit_code == 0, result.stderr
    assert len(cli.requests) > 2  # the POST and several polls
    assert set(authorizations(cli.requests)) == {f"Bearer {TOKEN}"}
    assert TOKEN not in result.stdout + result.stderr


def test_without_token_or_scope_no_authorization_header_is_sent():
    cli = world()
    credential = FakeCredential()
    cli.runtime = replace(cli.runtime, credential=credential.factory)

    result = cli.run("registry", "list")

    assert result.exit_code == 2  # the API wants one: 401
    assert authorizations(cli.requests) == [None]
    assert credential.made == 0


@pytest.mark.parametrize("value", [f"  {TOKEN}\n", f"Bearer {TOKEN}", f"bearer   {TOKEN}"])
def test_blanks_and_a_bearer_prefix_around_the_token_are_dropped(value):
    cli = world()

    cli.run("registry", "list", env={"REGCTL_TOKEN": value})

    assert authorizations(cli.requests) == [f"Bearer {TOKEN}"]


@pytest.mark.parametrize("value", ["two words", "tok\nen", "tøken", "Bearer "])
def test_a_token_that_cannot_be_a_header_is_a_usage_error_that_does_not_show_it(value):
    cli = world()

    result = cli.run("registry", "list", env={"REGCTL_TOKEN": value})

    assert result.exit_code == 2
    assert result.stderr.startswith("regctl: error: REGCTL_TOKEN is not an access token")
    assert "(the value is not shown)" in result.stderr
    assert value.strip() not in result.stderr
    assert cli.requests == []


def test_the_token_wins_over_the_scope():
    cli = world()
    credential = FakeCredential()
    cli.runtime = replace(cli.runtime, credential=credential.factory)

    cli.run("registry", "list", env={"REGCTL_TOKEN": TOKEN, "REGCTL_SCOPE": SCOPE})

    assert authorizations(cli.requests) == [f"Bearer {TOKEN}"]
    assert credential.made == 0


def test_an_empty_token_falls_back_to_the_scope():
    cli = world()
    credential = FakeCredential()
    cli.runtime = replace(cli.runtime, credential=credential.factory)

    cli.run("registry", "list", env={"REGCTL_TOKEN": "", "REGCTL_SCOPE": SCOPE})

    assert authorizations(cli.requests) == ["Bearer cred-token-1"]


# --- REGCTL_SCOPE ----------------------------------------------------------------------------------------


def test_regctl_scope_gets_one_token_from_the_credential_for_that_scope_and_reuses_it():
    cli = world()
    credential = FakeCredential()
    cli.runtime = replace(cli.runtime, credential=credential.factory)

    result = cli.run("registry", "create", "--file", str(DEMO_1), "--wait", env={"REGCTL_SCOPE": SCOPE})

    assert result.exit_code == 0, result.stderr
    assert credential.made == 1
    assert credential.asked == [(SCOPE,)]
    assert set(authorizations(cli.requests)) == {"Bearer cred-token-1"}
    assert credential.closed  # the command closes what it made
    assert "cred-token" not in result.stdout + result.stderr


def test_nothing_is_asked_of_the_credential_when_nothing_is_sent(tmp_path):
    cli = world()
    credential = FakeCredential()
    cli.runtime = replace(cli.runtime, credential=credential.factory)
    bad = tmp_path / "bad.yml"
    bad.write_text("name: _bad\n", encoding="utf-8")

    offline = cli.run("registry", "validate", "--file", str(DEMO_1), env={"REGCTL_SCOPE": SCOPE})
    invalid = cli.run("registry", "create", "--file", str(bad), env={"REGCTL_SCOPE": SCOPE})

    assert offline.exit_code == 0 and invalid.exit_code == 2
    assert credential.made == 0 and cli.requests == []


def test_a_token_about_to_expire_is_replaced_before_the_next_request():
    credential = FakeCredential(lifetime=REFRESH_MARGIN + 60)
    clock = [credential.now]
    tokens = CredentialTokens(SCOPE, credential.factory, clock=lambda: clock[0])

    first, again = tokens(), tokens()
    clock[0] += 61
    renewed = tokens()

    assert (first, again, renewed) == ("cred-token-1", "cred-token-1", "cred-token-2")
    assert credential.made == 1 and credential.asked == [(SCOPE,), (SCOPE,)]


def test_a_credential_that_cannot_give_a_token_exits_2_with_its_reason_and_sends_nothing():
    cli = world()
    reason = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n\tEnvironmentCredential: EnvironmentCredential authentication unavailable.\n"
        "\tAzureCliCredential: Please run 'az login' to set up an account"
    )
    credential = FakeCredential(fail=ClientAuthenticationError(reason))
    cli.runtime = replace(cli.runtime, credential=credential.factory)

    result = cli.run("registry", "list", env={"REGCTL_SCOPE": SCOPE})

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"regctl: error: cannot get a token for REGCTL_SCOPE={SCOPE} from DefaultAzureCredential: "
        "DefaultAzureCredential failed to retrieve a token from the included credentials."
    )
    assert lines[1:] == [
        "Attempted credentials:",
        "  EnvironmentCredential: EnvironmentCredential authentication unavailable.",
        "  AzureCliCredential: Please run 'az login' to set up an account",
    ]
    assert cli.requests == []


def test_the_default_credential_is_azure_identitys_default_azure_credential():
    assert Runtime().credential is default_credential
    credential = default_credential()
    try:
        assert isinstance(credential, DefaultAzureCredential)
    finally:
        credential.close()  # type: ignore[attr-defined]


# --- answers about the token -----------------------------------------------------------------------------


def test_a_401_with_a_token_set_prints_the_detail_without_the_hint():
    cli = world()

    result = cli.run("registry", "list", env={"REGCTL_TOKEN": "another-token"})

    assert result.exit_code == 2
    assert result.stderr == "InvalidAuthenticationToken: the access token is invalid\n"


def test_a_401_without_a_token_hints_how_to_send_one():
    cli = world()

    result = cli.run("registry", "create", "--file", str(DEMO_1))

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "AuthenticationRequired: an Authorization: Bearer token is required",
        "regctl: no token was sent: export REGCTL_TOKEN=<access token> (the sandbox's: python -m sandbox token "
        "--owner), or set REGCTL_SCOPE (e.g. api://regctl/.default) for one from DefaultAzureCredential",
    ]
    assert cli.world.store.get_registry("demoregistry1") is None


def test_a_403_while_following_an_operation_stops_the_wait_with_exit_2():
    cli = world()
    created = cli.run("registry", "create", "--file", str(DEMO_1), "-o", "json", env={"REGCTL_TOKEN": TOKEN})
    operation = json.loads(created.stdout)["id"]

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"code": "AuthorizationFailed", "detail": "no read on /registries/demoregistry1"}
        return httpx.Response(403, json=body, headers={"content-type": "application/problem+json"})

    runtime = replace(cli.runtime, http_client=lambda e: httpx.Client(transport=httpx.MockTransport(handler)))
    cli.runtime = runtime
    result = cli.run("operation", "show", operation, "--wait", env={"REGCTL_TOKEN": TOKEN})

    assert result.exit_code == 2
    assert result.stderr == "AuthorizationFailed: no read on /registries/demoregistry1\n"
