"""The CLI's access commands against a running sandbox: a custom role, a grant followed to its data plane, the
listing and the activity log, the grantee's own token, 401 and 403, the revoke, as a person would type them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_provisioning import renamed, unique

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
Regctl = Callable[..., subprocess.CompletedProcess[str]]


def regctl_as(env: Env, token: str | None) -> Regctl:
    """``python -m regctl`` against the sandbox with ``REGCTL_TOKEN=token`` (None: no token at all)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("REGCTL_TOKEN", "REGCTL_SCOPE")}
    environment["REGCTL_ENDPOINT"] = env.sandbox.api.removesuffix("/api")
    if token is not None:
        environment["REGCTL_TOKEN"] = token

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "regctl", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=ROOT,
        )

    return run


def test_the_cli_manages_access_on_a_running_sandbox(clean: Env, tmp_path: Path):
    name = unique("CliAccess")
    created = clean.create(renamed("demo-registry-1.yml", name))
    assert clean.wait(created.headers["Location"])["status"] == "Succeeded"
    owner = regctl_as(clean, clean.owner_token())
    principal = str(uuid.uuid4())
    role_name = unique("cli asset writer ")
    role_file = tmp_path / "role.yml"
    role_file.write_text(
        f"roleName: {role_name}\n"
        "description: writes assets\n"
        "actions:\n"
        "  - Microsoft.MachineLearningServices/registries/read\n"
        "  - Microsoft.MachineLearningServices/registries/assets/*\n"
        "assignableScopes: [/]\n",
        encoding="utf-8",
    )

    made = owner("role", "create", "--file", str(role_file), "-o", "json")
    assert made.returncode == 0, made.stderr
    role_id = json.loads(made.stdout)["name"]
    assert owner("role", "create", "--file", str(role_file)).returncode == 0  # again: the same role
    listed = json.loads(owner("role", "list", "-o", "json").stdout)
    assert role_name in {r["properties"]["roleName"] for r in listed["value"]}

    granted = owner(
        "access", "grant", "--registry", name, "--principal-id", principal, "--role", role_name,
        "--wait", "--interval", "0.2", "-o", "json",
    )  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    assignment = json.loads(granted.stdout)
    assert assignment["properties"]["dataPlane"]["state"] == "Applied"
    assert assignment["properties"]["roleDefinitionId"].endswith(role_id)

    listed = owner("access", "list", "--registry", name, "-o", "json")
    assert [a["name"] for a in json.loads(listed.stdout)["value"]] == [assignment["name"]]
    activity = json.loads(owner("activity", "list", "--registry", name, "-o", "json").stdout)["value"]
    assert "Microsoft.Authorization/roleAssignments/write" in {e["action"] for e in activity}

    grantee = regctl_as(clean, clean.sandbox.token(principal, name="grantee@example.com"))
    assert grantee("registry", "show", name, "-o", "json").returncode == 0  # may read the registry now
    refused = grantee("access", "list")  # but not the assignments at /
    assert refused.returncode == 2
    assert refused.stderr.startswith("AuthorizationFailed: ")
    anonymous = regctl_as(clean, None)("registry", "list")
    assert anonymous.returncode == 2
    assert "regctl: no token was sent" in anonymous.stderr

    busy = owner("role", "delete", role_name)
    assert busy.returncode == 2 and busy.stderr.startswith("RoleDefinitionInUse: ")
    revoked = owner(
        "access", "revoke", "--registry", name, "--principal-id", principal, "--role", role_id,
        "--wait", "--interval", "0.2", "-o", "json",
    )  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["status"] == "Succeeded"
    again = owner("access", "revoke", "--registry", name, "--principal-id", principal, "--role", role_id)
    assert again.returncode == 0 and "nothing to revoke" in again.stderr
    assert grantee("registry", "show", name).returncode == 2  # gone: it does not exist for them
    assert owner("role", "delete", role_name).returncode == 0
