"""How a delay becomes a Storage queue visibility timeout."""

from __future__ import annotations

import pytest

from shared.adapters.storage_queue import MAX_DELAY_SECONDS, _visibility_delay


def test_no_delay_sends_a_visible_message() -> None:
    assert _visibility_delay(0) is None


def test_fractional_delays_round_up_so_a_message_never_arrives_early() -> None:
    assert _visibility_delay(0.2) == 1
    assert _visibility_delay(10.0) == 10


def test_seven_days_is_the_longest_delay_storage_allows() -> None:
    assert _visibility_delay(MAX_DELAY_SECONDS) == MAX_DELAY_SECONDS
    with pytest.raises(ValueError, match="more than"):
        _visibility_delay(MAX_DELAY_SECONDS + 1)


def test_a_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        _visibility_delay(-0.5)
