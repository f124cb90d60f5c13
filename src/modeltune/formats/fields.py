"""Reading a foreign request document field by field, naming each field by its path in that document.

Importers walk SageMaker, Cloud ML and Vertex AI documents with ``Fields``: every read checks
the value's type, a wrong or missing value is one ``SpecError`` naming its path (for example
``HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs``), fields with no local
meaning are collected for one warning, and a field nobody read is an error with a suggestion.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError

from modeltune.errors import SpecError
from modeltune.spec import TuningJobSpec
from modeltune.spec.documents import short
from modeltune.spec.loader import describe_validation_error

T = TypeVar("T")
_RANGE_TAGS = {"Continuous", "Integer", "Categorical", "Discrete"}


@dataclass
class Reading:
    """One document being imported: its name for messages, what it left unused, where native fields came from.

    Args:
        source: the file name shown in messages.
        unused: paths (with values where short) of fields that have no local meaning.
        origins: native spec locations (``ranges.lr``) mapped to the foreign path they were read from.
    """

    source: str
    unused: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)

    def fail(self, path: str, message: str) -> NoReturn:
        """Raise the one-line error for the field at ``path``."""
        raise SpecError(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}")

    def root(self, data: Any, what: str) -> Fields:
        """The document's top level, which must be a mapping (``what`` says what it should hold)."""
        if not isinstance(data, dict):
            raise SpecError(f"{self.source}: the document must be a mapping with {what}, got {short(data)}")
        return Fields(self, data, "")

    def validate(self, spec: dict[str, Any]) -> TuningJobSpec:
        """The native spec built from the document; a problem names the foreign field it came from."""
        try:
            return TuningJobSpec.model_validate(spec)
        except ValidationError as exc:
            message = describe_validation_error(exc, self.source)
            loc = [str(part) for part in exc.errors()[0]["loc"] if str(part) not in _RANGE_TAGS]
            for size in range(len(loc), 0, -1):
                native = ".".join(loc[:size])
                if native in self.origins:
                    prefix = f"{self.source}: {'.'.join(loc)}"
                    if message.startswith(prefix):
                        return self.fail(self.origins[native], message[len(prefix) :].removeprefix(": "))
                    return self.fail(self.origins[native], message.removeprefix(f"{self.source}: "))
            raise SpecError(self._foreign_words(message)) from None

    def _foreign_words(self, message: str) -> str:
        """A spec-wide message with the native field names it mentions (``max_jobs``) put as foreign paths."""
        for native, foreign in self.origins.items():
            word = native.rsplit(".", 1)[-1]
            if "_" in word:
                message = re.sub(rf"\b{re.escape(word)}\b", foreign, message)
        return message

    def warning(self, form: str) -> str | None:
        """The one warning listing the fields with no local meaning, or None when there are none."""
        if not self.unused:
            return None
        return f"{self.source}: these {form} fields have no local meaning and are not used: {', '.join(self.unused)}"


class Fields:
    """A mapping at ``path`` in a foreign document, read one typed field at a time."""

    def __init__(self, reading: Reading, data: dict[str, Any], path: str):
        self.reading = reading
        self.data = data
        self.path = path
        self._seen: set[str] = set()

    def at(self, key: str | int) -> str:
        """The path of ``key`` (a field name or a list index) below this mapping."""
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        """True when the field is present (and not null)."""
        return self.data.get(key) is not None

    def _get(self, key: str, required: bool) -> Any:
        self._seen.add(key)
        value = self.data.get(key)
        if value is None and required:
            raise SpecError(f"{self.reading.source}: {self.at(key)} is required but missing")
        return value

    def _wrong(self, key: str, wanted: str, value: Any) -> NoReturn:
        self.reading.fail(self.at(key), f"must be {wanted}, got {short(value)}")

    def text(self, key: str, required: bool = False) -> str | None:
        """A string field."""
        value = self._get(key, required)
        if value is not None and not isinstance(value, str):
            self._wrong(key, "text", value)
        return value

    def integer(self, key: str, required: bool = False) -> int | None:
        """A whole number; numeric text such as ``"10"`` counts (JSON APIs send int64 as text)."""
        value = self._get(key, required)
        if value is None:
            return None
        number = _number(value)
        if number is None or isinstance(value, float) or not float(number).is_integer():
            self._wrong(key, "a whole number", value)
        return int(number)

    def number(self, key: str, required: bool = False) -> int | float | None:
        """A finite number; numeric text counts, as SageMaker sends range bounds as strings."""
        value = self._get(key, required)
        if value is None:
            return None
        number = _number(value)
        if number is None:
            self._wrong(key, "a number", value)
        return number

    def required_text(self, key: str) -> str:
        """A string field that must be present."""
        value = self._get(key, True)
        if not isinstance(value, str):
            self._wrong(key, "text", value)
        return value

    def section(self, key: str) -> Fields:
        """A nested mapping that must be present."""
        value = self._get(key, True)
        if not isinstance(value, dict):
            self._wrong(key, "a mapping of names to values", value)
        return Fields(self.reading, value, self.at(key))

    def boolean(self, key: str, required: bool = False) -> bool | None:
        """A true/false field."""
        value = self._get(key, required)
        if value is not None and not isinstance(value, bool):
            self._wrong(key, "true or false", value)
        return value

    def choice(self, key: str, options: Mapping[str, T], required: bool = False) -> T | None:
        """An enumeration: the value's native meaning from ``options``."""
        value = self.text(key, required)
        if value is None:
            return None
        if value not in options:
            self.reading.fail(self.at(key), f"unknown value {short(value)}; use one of {', '.join(options)}")
        return options[value]

    def mapping(self, key: str, required: bool = False) -> Fields | None:
        """A nested mapping."""
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._wrong(key, "a mapping of names to values", value)
        return Fields(self.reading, value, self.at(key))

    def items(self, key: str, required: bool = False) -> list[Any]:
        """A list (empty when absent)."""
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self._wrong(key, "a list", value)
        return value

    def mappings(self, key: str, required: bool = False) -> list[Fields]:
        """A list of mappings."""
        result = []
        for index, item in enumerate(self.items(key, required)):
            where = f"{self.at(key)}[{index}]"
            if not isinstance(item, dict):
                self.reading.fail(where, f"must be a mapping of names to values, got {short(item)}")
            result.append(Fields(self.reading, item, where))
        return result

    def texts(self, key: str, required: bool = False) -> dict[str, str]:
        """A mapping of names to strings (numbers and true/false are taken as their text)."""
        fields = self.mapping(key, required)
        if fields is None:
            return {}
        result = {}
        for name, value in fields.data.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = str(value)
            if not isinstance(value, str):
                self.reading.fail(fields.at(str(name)), f"must be text, got {short(value)}")
            result[str(name)] = value
        return result

    def trial_limits(self, trials: str, parallel: str, failed: str) -> dict[str, int]:
        """The spec's ``limits`` from Google's trial counts (the total, at once, failures allowed), each
        recorded as the origin of its limit; a missing count is 1 (failures: no limit)."""
        max_failed = self.integer(failed)
        self.reading.origins.update(
            {
                "limits.max_jobs": self.at(trials),
                "limits.max_parallel_jobs": self.at(parallel),
                "limits.max_failed_jobs": self.at(failed),
            }
        )
        return {
            "max_jobs": self.integer(trials) or 1,
            "max_parallel_jobs": self.integer(parallel) or 1,
            **({"max_failed_jobs": max_failed} if max_failed else {}),
        }

    def unused(self, *keys: str) -> None:
        """Fields with no local meaning: those present are listed in the import's warning."""
        for key in keys:
            self._seen.add(key)
            if self.data.get(key) is not None:
                self.reading.unused.extend(_leaves(self.at(key), self.data[key]))

    def unused_unless(self, key: str, local: str) -> None:
        """A field whose value ``local`` is what modeltune does anyway; any other value is listed as unused."""
        value = self.text(key)
        if value is not None and value != local:
            self.reading.unused.append(f"{self.at(key)}={value}")

    def done(self) -> None:
        """Refuse fields that were neither read nor known to be unused (usually a misspelling)."""
        for key in self.data:
            if key not in self._seen:
                close = difflib.get_close_matches(str(key), sorted(self._seen), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "; remove it"
                where = f" at {self.path}" if self.path else ""
                raise SpecError(f"{self.reading.source}: unknown field {short(key)}{where}{hint}")


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value) if value.strip().lstrip("+-").isdigit() else float(value)
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def _leaves(path: str, value: Any) -> list[str]:
    """``path=value`` for every plain value under ``path`` (values cut short), so the warning shows them."""
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _leaves(f"{path}.{key}", item)]
    if isinstance(value, list) and value:
        return [leaf for index, item in enumerate(value) for leaf in _leaves(f"{path}[{index}]", item)]
    text = str(value)
    return [f"{path}={text if len(text) <= 60 else text[:57] + '...'}"]
