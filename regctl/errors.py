"""Exit codes and the usage error, shared by every command (the rule is in ``regctl.cli``'s docstring)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
"""The API accepted the work and it did not succeed: the operation ended Failed or Canceled, or ``--timeout``
ran out first. (``registry validate`` also exits 1 for an invalid file: its answer is the check.)"""
EXIT_USAGE = 2
"""Nothing was done: bad usage, an invalid file, a problem answer from the API, or no usable answer at all."""
EXIT_INTERRUPTED = 130
"""Ctrl-C while following an operation; the operation itself goes on."""


class UsageProblem(Exception):
    """The command cannot run as asked (exit 2)."""
