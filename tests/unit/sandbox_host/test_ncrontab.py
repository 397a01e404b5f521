"""NCRONTAB schedules of timer triggers: seconds first, UTC, NCrontab's day matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sandbox.host.ncrontab import Schedule

START = datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("*/2 * * * * *", datetime(2025, 1, 1, 0, 0, 2, tzinfo=UTC)),
        ("0 */30 * * * *", datetime(2025, 1, 1, 0, 30, 0, tzinfo=UTC)),
        ("5 4 3 * * *", datetime(2025, 1, 1, 3, 4, 5, tzinfo=UTC)),
        ("0 0 9 * * Mon-Fri", datetime(2025, 1, 1, 9, 0, 0, tzinfo=UTC)),
        ("0 0 0 * * 0", datetime(2025, 1, 5, 0, 0, 0, tzinfo=UTC)),
    ],
)
def test_six_fields_read_seconds_first(expression: str, expected: datetime) -> None:
    assert Schedule.parse(expression).next_after(START) == expected


def test_five_fields_read_as_minutes_first_like_the_current_host() -> None:
    schedule = Schedule.parse("*/5 * * * *")

    assert not schedule.with_seconds
    assert schedule.next_after(START) == datetime(2025, 1, 1, 0, 5, 0, tzinfo=UTC)


def test_day_of_month_and_day_of_week_must_both_match_as_in_ncrontab() -> None:
    friday_the_13th = Schedule.parse("0 0 0 13 * 5")

    assert friday_the_13th.next_after(START) == datetime(2025, 6, 13, tzinfo=UTC)


def test_the_next_occurrence_is_strictly_after_the_given_moment() -> None:
    schedule = Schedule.parse("*/2 * * * * *")
    on_the_dot = datetime(2025, 1, 1, 0, 0, 2, tzinfo=UTC)

    assert schedule.next_after(on_the_dot) == datetime(2025, 1, 1, 0, 0, 4, tzinfo=UTC)


def test_occurrences_are_in_utc_whatever_the_input_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2025, 1, 1, 2, 0, 1, tzinfo=plus_two)  # 00:00:01 UTC

    assert Schedule.parse("0 0 * * * *").next_after(moment) == datetime(2025, 1, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    ["", "* * *", "0 0 0 1 1 * 2025", "61 * * * * *", "every minute", "0 0 0 31 2 *", "0 0 ? * * *"],
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="not a valid CRON expression"):
        Schedule.parse(expression)


def test_timespan_schedules_are_refused_because_flex_consumption_has_none() -> None:
    with pytest.raises(ValueError, match="TimeSpan"):
        Schedule.parse("00:05:00")


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule.parse("* * * * * *").next_after(datetime(2025, 1, 1))
