"""The base of every event and message model: a frozen msgspec Struct, validated when parsed.

msgspec, not pydantic: the same strictness (types, literals, patterns, lengths, bounds,
unknown fields refused where a model says so) for a fraction of the cold start. Importing
pydantic and building these models' validators cost each function more than half of
`import boto3` again; msgspec's import and validation are a C extension's (docs/cold-start.md).

A Struct validates when it is parsed (`parse`, `parse_json`), not when code builds one: the
edge parses what it is sent, and everything else is built by this package from parsed values.
"""

from __future__ import annotations

import re
from typing import Any, Self

import msgspec

# What a model refuses: a wrong type, a missing field, a value out of bounds, or invalid JSON.
Invalid = msgspec.DecodeError  # msgspec.ValidationError is a DecodeError too

_WHERE = re.compile(r"^(?P<what>.*) - at `\$\.?(?P<where>[^`]*)`$", re.DOTALL)


class Model(msgspec.Struct, frozen=True, kw_only=True):
    """Frozen, keyword-only; fields are matched by their wire names (`field(name=...)`).

    msgspec passes these options on to subclasses, type checkers do not: every model repeats
    `frozen=True, kw_only=True` so that mypy checks it as what it is."""

    @classmethod
    def parse(cls, data: object) -> Self:
        """`data` (whatever JSON a function was sent) as this model, or `Invalid` saying why not."""
        return msgspec.convert(data, cls)

    @classmethod
    def parse_json(cls, body: str | bytes) -> Self:
        return msgspec.json.decode(body, type=cls)

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()

    def to_dict(self) -> dict[str, Any]:
        """Every field under its wire name, as JSON would carry it (datetimes as ISO 8601)."""
        built: dict[str, Any] = msgspec.to_builtins(self)
        return built


def reason(error: msgspec.DecodeError) -> str:
    """'where: what' (e.g. "detail.image-digest: Expected `str` matching regex ..."), the
    field path first as in every log line and dead letter; just 'what' for the whole input."""
    text = str(error)
    found = _WHERE.match(text)
    if found is None:
        return text
    where = found["where"]
    return f"{where}: {found['what']}" if where else found["what"]
