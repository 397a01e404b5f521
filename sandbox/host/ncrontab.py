"""NCRONTAB schedules, as the Functions timer trigger reads them.

The timer trigger uses the NCrontab library: six fields with seconds first
(``{second} {minute} {hour} {day} {month} {day-of-week}``); an expression of exactly five fields is read
without seconds (current ``CronSchedule.TryCreate`` of the WebJobs timers extension). Two details differ
from Unix cron and are kept here: when both day-of-month and day-of-week are restricted a time must match
*both* (NCrontab ANDs them; cron ORs them), and times are UTC (the host's default without
``WEBSITE_TIME_ZONE``). TimeSpan schedules (``"00:05:00"``) run only on App Service plans, not on Flex
Consumption, so they are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter

_FIELD = re.compile(r"^[0-9A-Za-z*,/-]+$")
_TIMESPAN = re.compile(r"^\d+(\.\d+)?:\d{2}(:\d{2})?$|^\d+\.\d{2}:\d{2}:\d{2}$")


@dataclass(frozen=True)
class Schedule:
    """A parsed NCRONTAB expression; ``next_after`` gives occurrences in UTC."""

    expression: str
    with_seconds: bool

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        text = " ".join(expression.split())
        if _TIMESPAN.match(text):
            raise ValueError(
                f"'{expression}' is a TimeSpan schedule, which Flex Consumption does not support; "
                "use an NCRONTAB expression such as '0 */5 * * * *'"
            )
        fields = text.split(" ") if text else []
        if len(fields) not in (5, 6) or not all(_FIELD.match(field) for field in fields):
            raise ValueError(
                f"'{expression}' is not a valid CRON expression: NCRONTAB wants 6 fields "
                "({second} {minute} {hour} {day} {month} {day-of-week}) or 5 without seconds"
            )
        schedule = cls(text, with_seconds=len(fields) == 6)
        try:
            schedule.next_after(datetime(2000, 1, 1, tzinfo=UTC))
        except (ValueError, KeyError, TypeError) as exc:  # croniter's errors derive from ValueError
            raise ValueError(f"'{expression}' is not a valid CRON expression: {exc}") from exc
        return schedule

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after ``moment`` (an aware datetime), in UTC."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        iterator = croniter(
            self.expression,
            moment.astimezone(UTC),
            ret_type=datetime,
            day_or=False,
            second_at_beginning=self.with_seconds,
        )
        result = iterator.get_next(datetime)
        if not isinstance(result, datetime):  # pragma: no cover - croniter honours ret_type
            raise TypeError("croniter returned a non-datetime")
        return result.astimezone(UTC)

    def __str__(self) -> str:
        return self.expression
