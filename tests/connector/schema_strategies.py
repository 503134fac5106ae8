"""Hypothesis strategies for the subset of JSON Schema the OneRoster 1.2 OpenAPI file uses.

hypothesis-jsonschema 0.23.1 (its newest release) draws objects through a Hypothesis internal,
``conjecture.utils.many.more()``, that the installed Hypothesis no longer has, so it cannot generate a
single object. This covers what the file and the imsx shape use: ``type``, ``properties``,
``required``, ``enum``, ``items``, ``minItems``, ``minLength`` and the ``date``/``date-time`` formats.
Objects carry a few undeclared properties too, as the file allows. Callers validate what is drawn
against the schema with ``jsonschema``, so a gap here would show as a failure, not as silence.
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

UNSUPPORTED = frozenset({"$ref", "allOf", "anyOf", "oneOf", "not", "additionalProperties", "pattern"})

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])
_FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date": st.dates().map(lambda day: day.isoformat()),
    "date-time": st.datetimes(timezones=_ZONES).map(lambda moment: moment.isoformat()),
}


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under ``schema`` (refs already inlined); raises on a keyword it cannot honour."""
    unsupported = UNSUPPORTED.intersection(schema)
    if unsupported:
        raise ValueError(f"schema keywords not supported: {', '.join(sorted(unsupported))}")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind is None:
        # No type: any JSON value, but an object must still satisfy the declared properties.
        non_objects = ANY_JSON.filter(lambda value: not isinstance(value, dict))
        return _object(schema) | non_objects if "properties" in schema else ANY_JSON
    if kind == "object":
        return _object(schema)
    if kind == "array":
        min_items = schema.get("minItems", 0)
        return st.lists(from_schema(schema.get("items", {})), min_size=min_items, max_size=min_items + 3)
    if kind == "string":
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        return st.text(min_size=schema.get("minLength", 0), max_size=24)
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers()
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    raise ValueError(f"schema type not supported: {kind}")


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    declared = st.fixed_dictionaries(
        {name: from_schema(properties.get(name, {})) for name in sorted(required)},
        optional={name: from_schema(sub) for name, sub in properties.items() if name not in required},
    )
    undeclared = st.dictionaries(
        st.text(max_size=10).filter(lambda name: name not in properties and name not in required),
        ANY_JSON,
        max_size=2,
    )
    return st.builds(lambda extra, known: {**extra, **known}, undeclared, declared)
