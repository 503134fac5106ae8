"""Admin-edited YAML with line numbers, so every validation error points at the line to fix.

PyYAML's default loader silently keeps the last of two duplicated keys and turns codes such as
``N``, ``Y`` or ``1`` into booleans and integers; both would quietly change what a district meant.
This loader rejects duplicates, keeps every mapping key as the text the admin typed, and records
the line of each key so a pydantic error location can be turned back into ``file:line``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

KeyPath = tuple[str | int, ...]
Model = TypeVar("Model", bound=BaseModel)


class MappingFileError(ValueError):
    """An admin-edited file that cannot be used: which file, which line, which key, and what is wrong."""

    def __init__(self, file: str, line: int | None, key: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """Plain data from one file, with the line of every key path (1-based) for error messages."""

    source: str
    data: Any
    lines: dict[KeyPath, int]

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest key of ``path`` that exists in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def error(self, path: Sequence[str | int], problem: str) -> MappingFileError:
        return MappingFileError(self.source, self.line_of(path), dotted(path), problem)


def dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path)


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse one YAML document; a syntax error or a duplicated key raises MappingFileError."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[KeyPath, int] = {}
        data = _build(loader, node, (), lines, source) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise MappingFileError(source, line, "", f"YAML syntax error: {exc.problem or exc.context}") from None
    finally:
        loader.dispose()
    return YamlDocument(source, data, lines)


def _build(
    loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], source: str
) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise MappingFileError(source, line, dotted(path), "a key must be plain text")
            key = str(key_node.value)
            if key in result:
                first = lines[(*path, key)]
                raise MappingFileError(
                    source, line, dotted((*path, key)), f"duplicated key (first defined on line {first})"
                )
            lines[(*path, key)] = line
            result[key] = _build(loader, value_node, (*path, key), lines, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_build(loader, item, (*path, index), lines, source))
        return items
    return loader.construct_object(node, deep=True)


def load_model(path: Path, model: type[Model], what: str) -> Model:
    """An admin-edited YAML file validated as ``model``; an unreadable or invalid file is refused in
    one line naming the file, the line and the key (``what`` names the file for a person)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingFileError(str(path), None, "", f"cannot read {what} ({exc.strerror})") from exc
    document = parse_yaml(text, str(path))
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise validation_error(document, exc) from exc


def validation_error(document: YamlDocument, error: ValidationError) -> MappingFileError:
    """The first pydantic error of ``error`` as one readable line naming file, line and key."""
    first = error.errors(include_url=False)[0]
    path = _data_path(first["loc"])
    return document.error(path, describe(first))


def _data_path(loc: tuple[int | str, ...]) -> KeyPath:
    """Drop the parts pydantic adds for unions and validators, keeping the keys from the file."""
    return tuple(part for part in loc if isinstance(part, int) or not _is_internal(part))


def _is_internal(part: str) -> bool:
    return part.startswith(("function-", "tagged-union")) or "[" in part


def describe(error: ErrorDetails) -> str:
    """A problem statement an admin can act on, in the file's terms rather than Python's."""
    kind = error["type"]
    value = error.get("input")
    context: Mapping[str, Any] = error.get("ctx") or {}
    if kind in ("enum", "literal_error"):
        return f"{value!r} is not one of {_choices(str(context.get('expected', '')))}"
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check the spelling)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{value!r} is not a whole number"
    if kind in ("float_type", "float_parsing"):
        return f"{value!r} is not a number"
    if kind in ("bool_type", "bool_parsing"):
        return f"{value!r} is not true or false"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _choices(expected: str) -> str:
    """pydantic writes "'a', 'b' or 'c'"; an admin reads "a, b, c" more easily."""
    return expected.replace(" or ", ", ").replace("'", "")
