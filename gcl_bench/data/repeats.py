"""Keys that occur twice in one input file, and JSON read so that such keys are seen at all.

JSON readers keep the last of two equal keys without a word, and a line format read into a dict
does the same, so a repeated query, (query, document) pair or product would silently change the
numbers. The rule every reader of judgements and runs follows (a corpus refuses any repeated
product id, see :mod:`~gcl_bench.data.corpus`):

- a repeat whose value differs from the first occurrence is an error naming the file, the key
  and both values: which one is meant cannot be known;
- a repeat with the same value changes no number; it is counted once and reported as a
  :class:`RepeatedKeys` record (first key, count, rule), which the caller shows on the console
  and writes into results.json. A reader given no list to report into refuses it as well.

:func:`read_json_checked` parses with orjson and checks cheaply that no key was merged: every
key/value pair of the text has one structural ``:``, so when the file holds exactly as many
``:`` bytes as the parsed objects hold pairs, no pair was lost. Only when the two counts differ
(a ``:`` inside a string, or a real repeat) is the text parsed again by the standard library,
which reports every key as written.

May import: :mod:`gcl_bench.io`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from gcl_bench import inputs
from gcl_bench.errors import GclBenchError

SAME_VALUE_RULE = "counted once (every repeat has the same value)"


@dataclass
class RepeatedKeys:
    """Keys that occur more than once in ``file``, every time with the same value."""

    file: str
    what: str
    """What is repeated, e.g. ``"(query, document) pair"``."""
    count: int
    """How many repeats (occurrences beyond the first)."""
    first: str
    """The first repeated key, as the user would write it."""
    rule: str = SAME_VALUE_RULE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def message_of(record: dict[str, Any]) -> str:
        """The console line of a record as stored in results.json."""
        name = Path(str(record["file"])).name
        times = "once more" if record["count"] == 1 else f"{record['count']} more times in all"
        return f"{name}: {record['what']} {record['first']} repeated {times}; {record['rule']}"


class RepeatCounter:
    """Collects same-value repeats of one kind of key in one file; refuses a differing one."""

    def __init__(self, path: Path, what: str, repeats: list[RepeatedKeys] | None) -> None:
        self.path = path
        self.what = what
        self.repeats = repeats
        self.count = 0
        self.first = ""

    def seen_again(self, key: str, old: Any, new: Any, where: str = "") -> None:
        """Record that ``key`` (shown as the user wrote it) occurs again, with ``new`` after ``old``.

        ``where`` (e.g. ``"line 7: "``) starts the error message.
        """
        if old != new or self.repeats is None:
            differ = f"first {_short(old)}, then {_short(new)}" if old != new else f"each time {_short(new)}"
            raise GclBenchError(f"{where}{self.what} {key} occurs more than once ({differ}); keep one", self.path)
        if not self.count:
            self.first = key
        self.count += 1

    def close(self) -> None:
        """Append the record of this file's repeats (if any) to the list given."""
        if self.count and self.repeats is not None:
            self.repeats.append(RepeatedKeys(str(self.path), self.what, self.count, self.first))


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _pairs(value: Any) -> int:
    """How many key/value pairs the objects in ``value`` hold, at every depth."""
    if type(value) is dict:
        inner = [v for v in value.values() if type(v) is dict or type(v) is list]
        return len(value) + sum(map(_pairs, inner))
    if type(value) is list:
        return sum(_pairs(v) for v in value if type(v) is dict or type(v) is list)
    return 0


@dataclass
class JsonRepeat:
    """One key repeated inside one JSON object: the object's own key (None at the top), the
    repeated key, and the first and the later value."""

    parent: str | None
    key: str
    first: Any
    again: Any


def read_json_checked(path: Path) -> tuple[Any, list[JsonRepeat]]:
    """Parse a JSON file (gzip and a BOM accepted) and list the keys repeated in its objects.

    Keys are found at the top level and one level down (``{query: {doc: value}}``), the depths
    judgement and run files have; the value kept for a repeated key is the last, as JSON
    readers keep it.
    """
    data = inputs.read_input(path)
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise GclBenchError(f"malformed JSON ({err})", path) from None
    if data.count(b":") == _pairs(parsed):
        return parsed, []
    return parsed, repeats_as_written(data)


def repeats_as_written(data: bytes) -> list[JsonRepeat]:
    """Parse again with the standard library, which hands every object's pairs as written."""
    found: dict[int, list[tuple[str, Any, Any]]] = {}

    def keep_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                found.setdefault(id(result), []).append((key, result[key], value))
            result[key] = value
        if id(result) in found:
            kept.append(result)  # keep the object alive so its id stays its own
        return result

    kept: list[dict[str, Any]] = []
    top = json.loads(data.decode("utf-8"), object_pairs_hook=keep_pairs)
    repeats = [JsonRepeat(None, k, a, b) for k, a, b in found.pop(id(top), [])] if type(top) is dict else []
    if found and type(top) is dict:
        for parent, value in top.items():
            for k, a, b in found.get(id(value), []):
                repeats.append(JsonRepeat(parent, k, a, b))
    return repeats


def check_json_repeats(
    path: Path, repeats: list[JsonRepeat], outer: str, inner: str, sink: list[RepeatedKeys] | None
) -> None:
    """Apply the module's rule to ``repeats`` of a ``{outer: {inner: value}}`` file.

    ``outer`` / ``inner`` name the keys (``"query"``, ``"document"``); ``sink`` receives the
    same-value records (None: refuse them too).
    """
    top = RepeatCounter(path, outer, sink)
    nested = RepeatCounter(path, f"({outer}, {inner}) pair", sink)
    for repeat in repeats:
        if repeat.parent is None:
            top.seen_again(repr(repeat.key), repeat.first, repeat.again)
        else:
            nested.seen_again(f"({repeat.parent!r}, {repeat.key!r})", repeat.first, repeat.again)
    top.close()
    nested.close()
