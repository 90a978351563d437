"""Typer options generated from a stage's config model: default and help come from the field, never copied.

A command declares ``opts = ConfigOptions(SelfplayConfig)`` and each parameter, named as its field, as
``games: int = opts.option("games", "--games", "-n")``; ``opts.build(locals(), board_type=...)`` then makes the
config from those parameters, and a validation error names the option the user typed (``--games``), not the
field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import typer
from pydantic import BaseModel

from app.cli._common import build_config

M = TypeVar("M", bound=BaseModel)


class ConfigOptions(Generic[M]):
    def __init__(self, model: type[M]):
        self.model = model
        self.flags: dict[str, str] = {}

    def default(self, field: str) -> Any:
        return self.model.model_fields[field].get_default(call_default_factory=True)

    def option(self, field: str, *flags: str, help: str | None = None, default: Any = ...) -> Any:
        """A typer option for ``field``: the model's default (unless ``default`` is given) and description."""
        info = self.model.model_fields[field]
        if flags:
            self.flags[field] = "/".join(reversed(flags)) if len(flags) > 1 else flags[0]
        value = self.default(field) if default is ... else default
        return typer.Option(value, *flags, help=help or info.description)

    def build(self, values: Mapping[str, Any], *, extra: Mapping[str, Any] | None = None, **fields: Any) -> M:
        """The config from the command's parameters (``values``: its ``locals()``; those named as a field with an
        option are taken), ``fields`` set by the command itself and ``extra`` (``--set``: they keep their names)."""
        extra = dict(extra or {})
        given = {f: values[f] for f in self.flags if f in values}
        options = {f: o for f, o in self.flags.items() if f not in extra}
        return build_config(self.model, given | fields | extra, options)
