"""The libyaml path and the pure-Python fallback of ``load_yaml`` refuse and accept the same documents."""

from __future__ import annotations

import pytest
import yaml

from shared.domain import documents
from shared.domain.documents import MAX_ALIASES, MAX_DEPTH, MAX_NODES, load_yaml
from shared.domain.errors import InvalidSpec

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)
CASES = {
    "alias bomb": BOMB,
    "aliases": "a: &x 1\nb: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n",
    "depth": "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n",
    "depth at the limit": "a: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2) + "\n",
    "very deep": "a: " + "[" * 20_000 + "]" * 20_000,
    "nodes": "a: [" + ", ".join(["1"] * MAX_NODES) + "]\n",
    "duplicate key": "name: a\nlocation: eastus\nname: b\n",
    "syntax": "name: [a\nlocation: eastus\n",
    "bad tag": "a: !!int\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "merge key": "base: &b {location: eastus}\nreg:\n  <<: *b\n  name: x\n",
    "valid": "name: DemoRegistry1\nlocation: eastus\nreplication_locations:\n  - location: eastus\n",
}


def outcome(text: str) -> object:
    try:
        return load_yaml(text)
    except InvalidSpec as exc:
        return (exc.code, exc.message)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml here")
@pytest.mark.parametrize("name", sorted(CASES))
def test_both_loaders_give_the_same_answer(name: str, monkeypatch: pytest.MonkeyPatch):
    fast = outcome(CASES[name])
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    slow = outcome(CASES[name])
    if name == "syntax":  # libyaml words a syntax error its own way; the place is the same
        assert isinstance(fast, tuple) and isinstance(slow, tuple)
        fast, slow = fast[1].split(":")[0], slow[1].split(":")[0]
        assert fast.startswith("invalid YAML at line 2, column")
    assert slow == fast


def test_the_caps_are_checked_before_anything_is_composed(monkeypatch: pytest.MonkeyPatch):
    """libyaml's composer recurses: a document over the caps must never reach it."""

    def composed(*_: object) -> None:
        raise AssertionError("composed a document the event check should have refused")

    monkeypatch.setattr(documents, "_FastLoader", composed)
    for name in ("alias bomb", "aliases", "depth", "very deep", "nodes"):
        result = outcome(CASES[name])
        assert isinstance(result, tuple) and result[0] == "InvalidYaml" and "refused YAML" in result[1], name
