"""Run settings: every knob of ``PipelineConfig`` from a TOML file and ``KEY=VALUE`` pairs, and where each came from.

Keys are the config's fields, nested ones dotted (``cycle.num_simulations``); the list, the types and the valid
ranges are read from the pydantic models, never written out here. Precedence, lowest first: the field's default,
the config key's default (``defaults_for``), the file, the pairs. A value is validated strictly (``seed=true`` and
``gumbel=1`` are refused), and every refusal is two lines: what was given and where, then what would be valid.

On a resumed run (cycles already stored) fixed choices apply to every step not yet submitted, and each new cycle
starts from the previous one's settings as the feedback loop left them; a ``cycle.*`` value given now (file or flag)
is applied on top to the next cycle the run creates, and recorded in that cycle's changes (``action: set``), so later
cycles continue from it. ``for_next_cycle`` shows those settings, each marked with what set it, and names a given
``cycle.*`` value that waits for a later cycle (the next one is unfinished and keeps its settings).
"""

from __future__ import annotations

import difflib
import json
import tomllib
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from app.core.config import Settings
from app.core.errors import InvalidConfig
from app.core.files import read_given_file
from app.core.names import MAIN_RUN, parse_run
from app.integration.feedback import PipelineFeedback
from app.integration.feedback_types import Action, Recommendation
from app.integration.pipeline_config import SET, CycleSettings, PipelineConfig, defaults_for
from app.integration.pipeline_state import Cycle, PipelineState

DEFAULT = "default"
GAME_DEFAULT = "per-game default"
FLAG = "flag"
CYCLE = "cycle"
"""The group of ``PipelineConfig`` that holds the first cycle's ``CycleSettings``."""
NOT_TUNING = (Action.PAUSE_CONFIG, Action.RETRY, Action.ROLLBACK)
"""Recommendations that move no setting of the next cycle (the pipeline skips them there too)."""


def _leaves(model: type[BaseModel], prefix: str = "") -> dict[str, FieldInfo]:
    out: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            out |= _leaves(info.annotation, f"{prefix}{name}.")
        else:
            out[f"{prefix}{name}"] = info
    return out


FIELDS: dict[str, FieldInfo] = _leaves(PipelineConfig)
"""Every settable key, dotted, in the models' order."""
GROUPS = frozenset(key.rpartition(".")[0] for key in FIELDS if "." in key)


def file_source(path: Path | str) -> str:
    return f"file {path}"


@dataclass(frozen=True)
class ResolvedSettings:
    """The config a run uses, where each key's value came from, and (with cycles stored) for which cycle."""

    config: PipelineConfig
    sources: dict[str, str]
    cycle: int = 1
    stored_cycles: int = 0
    notes: tuple[str, ...] = ()
    overrides: Mapping[str, tuple[Any, str]] | None = None
    """Set by ``for_next_cycle``: the given ``cycle.*`` values as resolved (``cycle_overrides``)."""

    def rows(self) -> list[tuple[str, Any, str]]:
        """(key, value, source) for every key, in the models' order."""
        flat = _flatten(self.config.model_dump(mode="json"))
        return [(key, flat[key], self.sources[key]) for key in FIELDS]

    def given(self) -> dict[str, Any]:
        """The keys set by a file or a flag, with their values."""
        return {k: v for k, v, source in self.rows() if _is_given(source)}

    def cycle_overrides(self) -> dict[str, tuple[Any, str]]:
        """The ``cycle.*`` settings given by a file or a flag: field name → (value, source), what ``Pipeline``
        applies to the next cycle it creates (as resolved, before any stored cycle is looked at)."""
        if self.overrides is not None:
            return dict(self.overrides)
        prefix = f"{CYCLE}."
        return {
            key.removeprefix(prefix): (value, self.sources[key])
            for key, value in self.given().items()
            if key.startswith(prefix)
        }


def _is_given(source: str) -> bool:
    return source == FLAG or source.startswith("file ")


def set_mark(rule: str, number: int) -> str:
    """How a stored ``set`` change shows as a source: ``flag (cycle 3)``, ``file run.toml (cycle 3)``."""
    return f"{rule} (cycle {number})"


# -- reading ---------------------------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """JSON when it parses (``true``, ``0.25``, ``["random"]``, ``null``), the text itself otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: Iterable[str]) -> dict[str, Any]:
    """``["solver=true", "cycle.num_simulations=64"]`` → ``{"solver": True, "cycle.num_simulations": 64}``."""
    out: dict[str, Any] = {}
    for item in pairs:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidConfig(
                f"--set wants KEY=VALUE, got {item!r}\n"
                "e.g. --set solver=true --set cycle.num_simulations=64 (values are JSON, else text)"
            )
        if key in out:
            raise InvalidConfig(f"--set {key} is given twice\ngive each setting once")
        out[key] = parse_value(text)
    return out


def read_file(path: Path | str) -> dict[str, Any]:
    """A TOML file's settings as dotted keys: top-level keys are ``PipelineConfig`` fields, ``[cycle]`` its table."""
    path = Path(path)
    example = "e.g. solver = true, then a [cycle] table with num_simulations = 64"
    text = read_given_file(path, "--config", f"the path of a readable UTF-8 TOML file ({example})")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfig(f"--config {path} is not valid TOML: {exc}\n{example}") from None
    return _flatten(data)


def flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    """A ``PipelineConfig`` dump (or a TOML file's tables) as dotted keys: ``{"cycle.epochs": 2, ...}``."""
    return _flatten(data)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and key not in FIELDS:
            out |= _flatten(value, f"{key}.")
        else:
            out[key] = value
    return out


# -- checking --------------------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _origin(source: str) -> str:
    return "--set" if source == FLAG else source.removeprefix("file ")


def _kind(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(_shown(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_kind(a) for a in args if a is not type(None))
    if origin is list:
        return 'a list (JSON on the command line, e.g. ["random"])'
    return {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(
        annotation, str(annotation)
    )


def _number(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _range(info: FieldInfo) -> str:
    limits = {k: getattr(m, k) for m in info.metadata for k in ("ge", "gt", "le", "lt") if hasattr(m, k)}
    low = ("[", limits["ge"]) if "ge" in limits else ("(", limits["gt"]) if "gt" in limits else None
    high = ("]", limits["le"]) if "le" in limits else (")", limits["lt"]) if "lt" in limits else None
    if low and high:
        return f" in {low[0]}{_number(low[1])}, {_number(high[1])}{high[0]}"
    if low:
        return f" {'>=' if low[0] == '[' else '>'} {_number(low[1])}"
    if high:
        return f" {'<=' if high[0] == ']' else '<'} {_number(high[1])}"
    return ""


def allowed(key: str) -> str:
    """What ``key`` accepts, read from its field: type, range, description."""
    info = FIELDS[key]
    optional = " or null" if type(None) in get_args(info.annotation) else ""
    about = f": {info.description.split('. ')[0].rstrip('.')}" if info.description else ""
    return f"{key} is {_kind(info.annotation)}{_range(info)}{optional}{about}"


def _check_keys(values: Mapping[str, Any], source: str) -> None:
    for key in values:
        if key in FIELDS:
            continue
        if key in GROUPS:
            members = ", ".join(k for k in FIELDS if k.startswith(f"{key}."))
            raise InvalidConfig(
                f"{key} ({_origin(source)}) is a group of settings, not one\nset its keys one by one: {members}"
            )
        close = difflib.get_close_matches(key, list(FIELDS), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}?" if close else f"valid keys: {', '.join(FIELDS)}"
        raise InvalidConfig(f"unknown setting {key!r} ({_origin(source)})\n{hint}")


def _key_of(loc: Sequence[Any]) -> str:
    """The settable key an error location is in (``("anchors", 0)`` → ``anchors``)."""
    parts = [str(p) for p in loc]
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in FIELDS:
            return ".".join(parts[:n])
    return ".".join(parts)


def _validate(data: dict[str, Any], sources: Mapping[str, str]) -> PipelineConfig:
    try:
        return PipelineConfig.model_validate(data, strict=True)
    except ValidationError as exc:
        flat, lines = _flatten(data), []
        for error in exc.errors():
            key = _key_of(error["loc"])
            origin = _origin(sources.get(key, DEFAULT))
            lines.append(f"{key}={_shown(flat.get(key))} ({origin}) is refused: {error['msg'].lower()}")
            lines.append(allowed(key) if key in FIELDS else f"valid keys: {', '.join(FIELDS)}")
        raise InvalidConfig("\n".join(lines)) from None


# -- resolving -------------------------------------------------------------------------------------------------


def resolve(config_key: str, file: Path | str | None = None, pairs: Iterable[str] = ()) -> ResolvedSettings:
    """The settings of a run of ``config_key``: default < per-game default < ``file`` < ``pairs``."""
    from app.games.registry import game_for_key  # numba: paid only when a key is resolved

    game_for_key(config_key)  # an unknown board or player count names what is supported
    game = defaults_for(config_key)
    plain, data = _flatten(PipelineConfig().model_dump()), game.model_dump()
    sources = {k: GAME_DEFAULT if v != plain[k] else DEFAULT for k, v in _flatten(data).items()}
    layers = [(file_source(file), read_file(file))] if file is not None else []
    layers.append((FLAG, parse_pairs(pairs)))
    for source, values in layers:
        _check_keys(values, source)
        for key, value in values.items():
            *groups, leaf = key.split(".")
            target = data
            for group in groups:
                target = target[group]
            target[leaf] = value
            sources[key] = source
    return ResolvedSettings(_validate(data, sources), sources)


def for_next_cycle(
    resolved: ResolvedSettings, cycles: Sequence[Cycle], pending: Sequence[Recommendation] = ()
) -> ResolvedSettings:
    """``resolved`` as the next cycle of a run with ``cycles`` stored would use it.

    A cycle that is not done yet keeps its stored settings (a given ``cycle.*`` value waits for the cycle after
    it, with a note); after a done one the next starts from its settings with ``pending`` (the recommendations
    the feedback loop has now) applied, then the given ``cycle.*`` values. Each ``cycle.*`` value changed by the
    feedback loop is marked ``feedback (cycle N: rule)``, one an earlier run set ``flag (cycle N)`` (or ``file
    PATH (cycle N)``), one given now its source, one the run started with ``stored (cycle 1)``.
    """
    if not cycles:
        return resolved
    latest = cycles[-1]
    marks = _stored_marks(cycles)
    settings, number, notes = CycleSettings(**latest.settings), latest.cycle, []
    overrides = resolved.cycle_overrides()
    if latest.status == "done":
        number += 1
        settings, notes = _apply_pending(settings, pending, number, marks, tune=resolved.config.feedback)
        settings = settings.model_copy(update={name: value for name, (value, _) in overrides.items()})
    sources = dict(resolved.sources)
    wanted = resolved.config.cycle.model_dump()
    for name, value in settings.model_dump().items():
        key = f"{CYCLE}.{name}"
        if name in overrides and latest.status == "done":
            continue  # applied: the source stays the file or the flag
        if value == wanted[name] and key not in marks:
            continue
        sources[key] = marks.get(key, "stored (cycle 1)")
        if name in overrides and value != wanted[name]:
            notes.append(
                f"{key}={_shown(wanted[name])} ({_origin(resolved.sources[key])}) applies from cycle {number + 1}: "
                f"cycle {number} is unfinished and keeps its {_shown(value)}"
            )
    config = resolved.config.model_copy(update={CYCLE: settings})
    return replace(resolved, config=config, sources=sources, cycle=number, stored_cycles=len(cycles),
                   notes=tuple(notes), overrides=overrides)  # fmt: skip


def _stored_marks(cycles: Sequence[Cycle]) -> dict[str, str]:
    """``cycle.<name>`` → what last changed it in the stored cycles (the feedback loop, or a file or flag)."""
    marks: dict[str, str] = {}
    for c in cycles:
        for entry in c.changes:
            rule = entry.get("rule")
            mark = (
                set_mark(rule, c.cycle)
                if entry.get("action") == SET
                else f"feedback (cycle {c.cycle}: {rule})"
            )
            for name in entry.get("changes", {}):
                marks[f"{CYCLE}.{name}"] = mark
    return marks


def _apply_pending(
    settings: CycleSettings,
    pending: Sequence[Recommendation],
    number: int,
    marks: dict[str, str],
    *,
    tune: bool,
) -> tuple[CycleSettings, list[str]]:
    """What the pipeline does with ``pending`` when it creates cycle ``number`` (``marks``: what moved, by whom)."""
    notes = []
    for rec in pending:
        if rec.action is Action.PAUSE_CONFIG:
            notes.append(f"the feedback loop will pause {rec.config_key} before cycle {number}: {rec.reason}")
        if rec.action in NOT_TUNING or not tune:
            continue  # without feedback a cycle keeps the previous one's settings
        before = settings.model_dump()
        settings = settings.tuned(rec.apply(before))
        for name, value in settings.model_dump().items():
            if value != before[name]:
                marks[f"{CYCLE}.{name}"] = f"feedback (cycle {number}: {rec.rule}, pending)"
    return settings, notes


def resolve_for_run(
    config_key: str,
    *,
    settings: Settings,
    file: Path | str | None = None,
    pairs: Iterable[str] = (),
    run: str = MAIN_RUN,
) -> ResolvedSettings:
    """``resolve``, then what the data directory's stored cycles of ``config_key``'s ``run`` make of it
    (``for_next_cycle``)."""
    resolved = resolve(config_key, file, pairs)
    if settings.is_sqlite and not (settings.home / "zeroloop.db").exists():
        return resolved  # nothing stored yet: do not create a database just to look
    cycles = PipelineState(settings, config_key, parse_run(run)).cycles()
    pending: list[Recommendation] = []
    if cycles and cycles[-1].status == "done":
        current = CycleSettings(**cycles[-1].settings).model_dump()
        pending = PipelineFeedback(settings).get_recommendations(config_key, current=current)
    return for_next_cycle(resolved, cycles, pending)
