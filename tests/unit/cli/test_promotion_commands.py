"""``regctl model promote``, ``regctl rule create|list|delete`` and ``regctl promotion list|approve`` against
the real API over fakes: a promotion by hand with --wait, a rule promoting by events, an approval."""

from __future__ import annotations

import json

from handlers.http_api import create_api
from tests.unit.cli.harness import CliWorld
from tests.unit.services.promotion_world import FILES, PromotionWorld


def cli_world() -> CliWorld:
    cli = CliWorld(per_poll=None)
    world = PromotionWorld({"dev": ("eastus", "eastus2"), "prod": ("westus", "centralus")})
    cli.world = world
    cli.api = create_api(
        lambda: world.api.service,
        lambda: {"store": True},
        world.gate,
        assets=lambda: world.assets,
        promotions=lambda: world.container.promotions,
    )
    return cli


def test_model_promote_with_wait_copies_into_every_target_region_and_exits_0():
    cli = cli_world()
    world = cli.world
    assert isinstance(world, PromotionWorld)
    world.register("dev")
    result = cli.run(
        "model", "promote", "--from", "dev", "--to", "prod", "-n", "fraud", "-v", "1", "--wait", "-o", "json"
    )
    assert result.exit_code == 0, result.stderr
    promotion = json.loads(result.stdout)
    assert promotion["status"] == "Succeeded"
    assert promotion["source"] == "azureml://registries/dev/models/fraud/versions/1"
    for region in ("westus", "centralus"):
        assert world.copies("prod", region) == FILES
    version = cli.get("/api/registries/prod/models/fraud/versions/1")
    assert version["properties"]["promotedFrom"] == promotion["source"]


def test_promoting_over_other_content_exits_1_naming_both_versions():
    cli = cli_world()
    world = cli.world
    assert isinstance(world, PromotionWorld)
    world.register("dev")
    world.register("prod", {"x.bin": b"other"})
    result = cli.run("model", "promote", "--from", "dev", "--to", "prod", "-n", "fraud", "-v", "1")
    assert result.exit_code == 1
    assert "AssetVersionImmutable" in result.stdout and "registries/dev" in result.stderr


def test_a_rule_made_with_the_cli_promotes_by_events_and_waits_for_approval():
    cli = cli_world()
    world = cli.world
    assert isinstance(world, PromotionWorld)
    made = cli.run(
        "rule",
        "create",
        "-n",
        "dev-prod",
        "--source",
        "dev",
        "--target",
        "prod",
        "--approval",
        "required",
        "--tag",
        "stage=production",
        "-o",
        "json",
    )
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["filter"]["tags"] == {"stage": "production"}
    listed = cli.run("rule", "list")
    assert "dev-prod" in listed.stdout and "required" in listed.stdout
    world.register("dev", tags={"stage": "production"})
    world.pump()
    waiting = json.loads(cli.run("promotion", "list", "--status", "PendingApproval", "-o", "json").stdout)["value"]
    assert len(waiting) == 1
    approved = cli.run("promotion", "approve", waiting[0]["id"], "-o", "json")
    assert approved.exit_code == 0, approved.stderr
    world.drain()
    shown = json.loads(cli.run("promotion", "show", waiting[0]["id"], "-o", "json").stdout)
    assert shown["status"] == "Succeeded" and shown["decidedBy"]["name"] == "owner@example.com"
    assert cli.run("rule", "delete", "-n", "dev-prod").exit_code == 0
    assert json.loads(cli.run("rule", "list", "-o", "json").stdout)["value"] == []


def test_rules_watching_a_build_acr_and_a_storage_prefix_are_made_and_listed_with_the_cli():
    cli = cli_world()
    group = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/b/providers"
    acr = f"{group}/Microsoft.ContainerRegistry/registries/build"
    account = acr.replace("Microsoft.ContainerRegistry/registries/build", "Microsoft.Storage/storageAccounts/drop")
    made = cli.run("rule", "create", "-n", "images", "--source-acr", acr, "--repository", "team/*", "--target", "prod")
    assert made.exit_code == 0, made.stderr
    made = cli.run(
        "rule", "create", "-n", "drops", "--source-storage", account, "--container", "inbox", "--prefix", "models/",
        "--target", "prod", "-o", "json",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["source"] == {"storage": account, "container": "inbox", "prefix": "models/"}
    listed = cli.run("rule", "list").stdout
    assert "acr build team/*" in listed and "storage drop/inbox/models/" in listed
    both = cli.run("rule", "create", "-n", "x", "--source", "dev", "--source-acr", acr, "--target", "prod")
    assert both.exit_code != 0 and "exactly one of --source" in both.stderr
    bad = cli.run("rule", "create", "-n", "x", "--source-storage", account, "--container", "assets", "--target", "prod")
    assert bad.exit_code == 2 and "regctl's own copies" in bad.stderr
