"""Error texts may quote what was sent, but only a short excerpt of it (documents.py: ``shorten``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

#: The longest piece of the input an error text may repeat: ``shorten`` keeps 40 characters (120 for YAML
#: syntax problems), and a few characters of context may border it.
MAX_EXCERPT = 120


def strings_in(value: object) -> Iterator[str]:
    """Every string inside ``value`` (keys and values of mappings, items of lists, decoded bytes)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def long_strings(*values: object) -> list[str]:
    return [s for value in values for s in strings_in(value) if len(s) > MAX_EXCERPT]


def assert_no_long_excerpt(text: str | Iterable[str], inputs: Iterable[str]) -> None:
    """No run of more than ``MAX_EXCERPT`` characters of any input appears in ``text``."""
    texts = [text] if isinstance(text, str) else list(text)
    size = MAX_EXCERPT + 1
    windows = {t[i : i + size] for t in texts for i in range(len(t) - size + 1)}
    if not windows:
        return
    for source in inputs:
        for i in range(len(source) - size + 1):
            excerpt = source[i : i + size]
            assert excerpt not in windows, f"an error repeats {size}+ characters of the input: {excerpt[:60]!r}..."
