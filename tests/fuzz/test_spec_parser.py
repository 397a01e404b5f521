"""Hypothesis against the spec parser: untrusted text and documents in, a spec or ``InvalidSpec`` out.

- Arbitrary text and bytes, and YAML assembled from YAML's own syntax (anchors, aliases, tags, flow and block
  collections, merge keys, odd scalars), never make ``load_yaml``/``load_json`` raise anything but
  ``InvalidSpec``; arbitrary documents (keys biased to the spec's own) never make ``parse_spec`` do so.
- Valid generated specs round-trip: ``parse_spec(spec.to_document()).spec == spec``, also through YAML and
  JSON text.
- Errors quote at most a short excerpt of the input (``tests/fuzz/excerpts.py``).
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.documents import load_json, load_yaml
from shared.domain.errors import InvalidSpec
from shared.domain.regions import REGIONS
from shared.domain.spec import RegistrySpec, parse_spec
from shared.domain.spec_fields import MAX_REPLICATION_COUNT, MAX_TAG_KEY, MAX_TAG_VALUE, NAME_PATTERN, StorageSku
from tests.fuzz.excerpts import MAX_EXCERPT, assert_no_long_excerpt, long_strings
from tests.fuzz.strategies import SPEC_KEYS, yaml_like


def examples(n: int) -> settings:
    """Bounded and derandomized: the same examples on every run, a few seconds in all."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None)


REGION_NAMES = sorted(REGIONS)


def _long_text(seed: int) -> str:
    """Letters unlikely to occur in an error by chance, longer than the excerpt an error may quote."""
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters, k=MAX_EXCERPT + 1 + seed % 400))


long_texts = st.integers(0, 100_000).map(_long_text)  # cheaper to draw than long st.text()


def error_text(error: InvalidSpec) -> list[str]:
    return [error.message, *(e.path for e in error.errors), *(e.message for e in error.errors), *error.warnings]


def parse_or_invalid(document: dict[str, Any]) -> RegistrySpec | None:
    """``parse_spec``'s result, or None when it refused the document the one allowed way."""
    try:
        return parse_spec(document).spec
    except InvalidSpec as error:
        assert error.errors, "InvalidSpec from parse_spec lists the offending fields"
        assert_no_long_excerpt(error_text(error), long_strings(document))
        return None


# -- arbitrary text --------------------------------------------------------------------------------


@examples(250)
@given(st.one_of(st.text(), st.binary(), yaml_like, yaml_like.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_load_yaml_answers_a_mapping_or_invalid_spec_for_any_input(text: str | bytes):
    try:
        document = load_yaml(text)
    except InvalidSpec as error:
        assert error.message
        assert_no_long_excerpt(error_text(error), long_strings(text))
        return
    assert isinstance(document, dict) and all(isinstance(k, str) for k in document)
    parse_or_invalid(document)


json_tokens = st.sampled_from(
    ['{"', '":', '"', "{", "}", "[", "]", ",", ":", "null", "true", "1e999", "-0", "NaN", "Infinity", "9" * 5000]
)
json_like = st.lists(json_tokens | st.sampled_from(SPEC_KEYS) | st.text(max_size=6), max_size=40).map("".join)


@examples(250)
@given(st.one_of(st.text(), st.binary(), json_like, st.integers(1, 2000).map(lambda n: "[" * n + "]" * n)))
def test_load_json_answers_a_mapping_or_invalid_spec_for_any_input(text: str | bytes):
    try:
        document = load_json(text)
    except InvalidSpec as error:
        assert error.message
        assert_no_long_excerpt(error_text(error), long_strings(text))
        return
    assert isinstance(document, dict)
    parse_or_invalid(document)


# -- arbitrary documents ---------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    long_texts,  # errors must not echo it
    st.sampled_from(REGION_NAMES + ["East US", "EASTUS", " eastus "] + [s.value for s in StorageSku]),
)
keys = st.one_of(st.sampled_from(SPEC_KEYS), st.text(max_size=10), st.integers(), st.none(), st.booleans())
documents_anywhere = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=30,
)
top_level = st.dictionaries(st.sampled_from(SPEC_KEYS) | st.text(max_size=10), documents_anywhere, max_size=8)


@examples(100)
@given(top_level)
def test_parse_spec_answers_a_spec_or_invalid_spec_for_any_document(document: dict[str, Any]):
    parse_or_invalid(document)


@examples(40)
@given(top_level)
def test_any_document_written_as_yaml_or_json_reads_back_as_a_spec_or_invalid_spec(document: dict[str, Any]):
    for load, text in ((load_yaml, yaml.safe_dump(document)), (load_json, json.dumps(document, default=str))):
        try:
            loaded = load(text)  # refusing is allowed: JSON writes the keys 1 and "1" both as "1", a duplicate
        except InvalidSpec as error:
            assert_no_long_excerpt(error_text(error), long_strings(document))
            continue
        parse_or_invalid(loaded)


# -- valid specs -----------------------------------------------------------------------------------

tag_keys = st.text(
    st.characters(blacklist_characters="<>%&\\?/", codec="utf-8"), min_size=1, max_size=MAX_TAG_KEY
).filter(lambda k: k.strip() and not k.lower().startswith("regctl-"))
tag_values = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=MAX_TAG_VALUE),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
)
sku_spellings = st.sampled_from(list(StorageSku)).flatmap(
    lambda sku: st.sampled_from([sku.value, sku.value.lower(), sku.value.upper(), f" {sku.value} "])
)
storage_configs = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "storage_account_type": sku_spellings,
            "storage_account_hns": st.booleans(),
            "replication_count": st.integers(1, MAX_REPLICATION_COUNT),
        },
    ),
)


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    regions = draw(st.lists(st.sampled_from(REGION_NAMES), min_size=1, max_size=6, unique=True))
    primary = draw(st.sampled_from(regions + [r for r in REGION_NAMES if r not in regions][:1]))
    entries: list[dict[str, Any]] = []
    for region in regions:
        entry: dict[str, Any] = {"location": draw(st.sampled_from([region, region.upper(), f"  {region}"]))}
        if draw(st.booleans()):
            entry["storage_config"] = draw(storage_configs)
        entries.append(entry)
    tags = draw(st.dictionaries(tag_keys, tag_values, max_size=5))
    if len({k.lower() for k in tags}) != len(tags) or any(k != k.strip() for k in tags):
        tags = {}
    document: dict[str, Any] = {
        "name": draw(st.from_regex(NAME_PATTERN, fullmatch=True)),
        "location": draw(st.sampled_from([primary, primary.upper()])),
        "replication_locations": entries,
    }
    optional = {
        "description": st.text(st.characters(codec="utf-8"), max_size=200),
        "tags": st.just(tags),
        "public_network_access": st.sampled_from(["Enabled", "disabled", "ENABLED"]),
        "intellectual_property": st.builds(lambda p: {"publisher": p}, st.text(max_size=20)),
        "container_registry": st.sampled_from([None, {}, {"acr_account_sku": "premium"}]),
        "id": st.just("/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices/registries/z"),
        "kind": st.just("registry"),  # output-only keys are ignored
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            document[key] = draw(strategy)
    return document


@examples(60)
@given(valid_documents())
def test_valid_specs_round_trip_through_their_document_yaml_and_json(document: dict[str, Any]):
    spec = parse_spec(document).spec
    normalised = spec.to_document()

    assert parse_spec(normalised).spec == spec
    assert parse_spec(load_yaml(yaml.safe_dump(normalised, allow_unicode=True))).spec == spec
    assert parse_spec(load_json(json.dumps(normalised))).spec == spec
    assert parse_spec(normalised).warnings == []


@examples(40)
@given(valid_documents(), long_texts, st.sampled_from(SPEC_KEYS))
def test_a_long_bad_value_anywhere_is_quoted_at_most_as_a_short_excerpt(document: dict[str, Any], long: str, key: str):
    document = {**document, key: long}
    entries = document.get("replication_locations")
    if isinstance(entries, list) and entries:
        entries[0] = {**entries[0], "location": long, long: long}
    try:
        parse_spec(document)
    except InvalidSpec as error:
        assert_no_long_excerpt(error_text(error), [long])
    else:
        raise AssertionError("a long value in a region and in its own key was accepted")


@settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(string.ascii_letters + ":-[]{} \n", min_size=MAX_EXCERPT * 2, max_size=60_000))
def test_long_yaml_and_json_errors_quote_at_most_a_short_excerpt(text: str):
    for load in (load_yaml, load_json):
        try:
            load(text)
        except InvalidSpec as error:
            assert_no_long_excerpt(error_text(error), [text])
