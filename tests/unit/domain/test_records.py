"""Operation ids (shared/domain/records.py): they name their registry, so no index is needed to find them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.messages import Reconcile
from shared.domain.records import new_operation_id, operation_registry

KEYS = st.from_regex(r"[a-z0-9][a-z0-9_-]{1,31}", fullmatch=True)


@given(KEYS)
def test_an_operation_id_names_its_registry_and_fits_in_a_message(key: str):
    operation_id = new_operation_id(key)
    assert operation_registry(operation_id) == key
    Reconcile(registry=key, generation=1, operation_id=operation_id)  # within the message's field limits


def test_operation_ids_are_unique():
    assert len({new_operation_id("demoregistry1") for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "foreign",
    [
        "",
        "0123456789abcdef0123456789abcdef",  # no registry part
        "Demo.0123456789abcdef0123456789abcdef",  # keys are lowercase
        "a/b.0123456789abcdef0123456789abcdef",  # not a key: would be a bad table PartitionKey
        "demo#1.0123456789abcdef0123456789abcdef",
        "demo.0123456789ABCDEF0123456789abcdef",
        "demo.0123",
        "x" * 33 + ".0123456789abcdef0123456789abcdef",
        "demo.0123456789abcdef0123456789abcdef\n",
    ],
)
def test_ids_regctl_could_not_have_made_name_no_registry(foreign: str):
    assert operation_registry(foreign) is None
