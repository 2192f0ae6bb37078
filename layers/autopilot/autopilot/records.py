"""`replace` and `asdict` for the application's records, whichever kind they are.

The domain's records are msgspec Structs: a Struct class is created in C, where a dataclass
compiles half a dozen methods from source when its module is imported (0.5 ms each, about a
third of a handler's cold start on top of boto3's). Some workflow and adapter types are still
dataclasses; these two functions take either, so a caller need not know which.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, TypeVar

import msgspec

Record = TypeVar("Record")


def replace(record: Record, /, **changes: Any) -> Record:
    """A copy of `record` with `changes`, as `dataclasses.replace` makes one."""
    if isinstance(record, msgspec.Struct):
        return msgspec.structs.replace(record, **changes)
    copied: Record = dataclasses.replace(record, **changes)  # type: ignore[type-var]
    return copied


def asdict(record: object) -> dict[str, Any]:
    """Its fields as a dict, nested records too, other values deep-copied: what
    `dataclasses.asdict` returns."""
    if isinstance(record, msgspec.Struct):
        return {name: _plain(getattr(record, name)) for name in record.__struct_fields__}
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)}
    raise TypeError(f"asdict() takes a record, not {type(record).__name__}")


def _plain(value: Any) -> Any:
    if isinstance(value, msgspec.Struct) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        return asdict(value)
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    return copy.deepcopy(value)
