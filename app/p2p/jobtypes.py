"""Job types: a name mapped to (config model, stage function), both given as lazy ``"module:attr"`` paths.

Nothing is imported until a job of that type is submitted or run, so a node starts without torch and a type
whose stage is missing fails with a message naming the import instead of breaking every other type.
A stage function is called as ``run(cfg, *, settings=..., progress=...)`` and returns a pydantic model (or a
JSON-serialisable value), which becomes the job's result.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from app.core.errors import InvalidConfig, ZeroloopError
from app.core.jobs import Resources
from app.core.names import config_key as make_config_key


class JobTypeUnavailable(ZeroloopError):
    """A known job type whose config model or stage function cannot be loaded on this node."""


class JobConfigInvalid(InvalidConfig):
    """A job config its type's model rejects; ``errors`` holds one ``{loc, msg, type}`` per bad field."""

    def __init__(self, job_type: str, errors: list[dict[str, Any]]):
        self.job_type = job_type
        self.errors = errors
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in errors)
        super().__init__(f"invalid config for job type {job_type!r}: {fields}")


def _resolve(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r}") from None


@dataclass(frozen=True)
class JobType:
    name: str
    config: str  # "module:ConfigModel"
    run: str  # "module:function"
    description: str
    resources: Resources = field(default_factory=Resources)

    def _load(self, path: str) -> Any:
        try:
            return _resolve(path)
        except Exception as exc:  # any import-time error makes the type unavailable, not the node
            raise JobTypeUnavailable(
                f"job type {self.name!r} is not available on this node: cannot load {path} "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    def config_model(self) -> type[BaseModel]:
        model = self._load(self.config)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise JobTypeUnavailable(f"job type {self.name!r}: {self.config} is not a pydantic model")
        return model

    def runner(self) -> Callable[..., Any]:
        fn = self._load(self.run)
        if not callable(fn):
            raise JobTypeUnavailable(f"job type {self.name!r}: {self.run} is not callable")
        return fn


_REGISTRY: dict[str, JobType] = {}
_registry_lock = threading.Lock()


def register(job_type: JobType, *, replace: bool = False) -> JobType:
    """Add a job type (the pipeline adds ``pipeline``); an existing name needs ``replace=True``."""
    with _registry_lock:
        if job_type.name in _REGISTRY and not replace:
            raise ValueError(f"job type {job_type.name!r} is already registered")
        _REGISTRY[job_type.name] = job_type
    return job_type


def get_job_type(name: str) -> JobType:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidConfig(
            f"unknown job type {name!r}; known types: {', '.join(sorted(_REGISTRY))}"
        ) from None


def job_types() -> list[JobType]:
    return sorted(_REGISTRY.values(), key=lambda t: t.name)


def _plain_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


def validate_config(job_type: str, config: dict[str, Any]) -> tuple[BaseModel, str | None]:
    """The config as its type's model, and the config key when the config names a board and player count.

    Raises ``InvalidConfig`` for an unknown type, ``JobConfigInvalid`` for a bad config (every bad field
    listed) and ``JobTypeUnavailable`` when the type's code cannot be loaded.
    """
    jt = get_job_type(job_type)
    model = jt.config_model()
    if not isinstance(config, dict):
        raise JobConfigInvalid(
            job_type, [{"loc": [], "msg": "config must be a JSON object", "type": "dict_type"}]
        )
    try:
        cfg = model.model_validate(config)
    except ValidationError as exc:
        raise JobConfigInvalid(job_type, _plain_errors(exc)) from None
    board = getattr(cfg, "board_type", None)
    players = getattr(cfg, "num_players", None)
    if board is None or players is None:
        return cfg, None
    _check_game(job_type, board, players)
    return cfg, make_config_key(board, players)


def _check_game(job_type: str, board_type: str, num_players: int) -> None:
    # Stage configs check this too; checking here as well keeps a job for an unknown game out of the queue
    # whatever the stage's model does.
    from app.games.registry import supported

    games = supported()
    if board_type not in games:
        raise JobConfigInvalid(
            job_type,
            [
                {
                    "loc": ["board_type"],
                    "msg": f"unknown board type {board_type!r}; supported: {', '.join(sorted(games))}",
                    "type": "unknown_board_type",
                }
            ],
        )
    if num_players not in games[board_type]:
        counts = ", ".join(str(n) for n in games[board_type])
        raise JobConfigInvalid(
            job_type,
            [
                {
                    "loc": ["num_players"],
                    "msg": f"{board_type} is played by {counts} players, not {num_players}",
                    "type": "unsupported_player_count",
                }
            ],
        )


register(
    JobType(
        "sleep",
        "app.p2p.sleep_job:SleepConfig",
        "app.p2p.sleep_job:run_sleep",
        "Diagnostic: sleep, report progress, optionally fail.",
        Resources(cpus=0),
    )
)
register(
    JobType(
        "selfplay",
        "app.selfplay:SelfplayConfig",
        "app.selfplay:run_selfplay",
        "Play games with the current model and write training shards.",
    )
)
register(
    JobType(
        "training",
        "app.training:TrainConfig",
        "app.training:run_training",
        "Train a new model on the newest shards, starting from the production model.",
    )
)
register(
    JobType(
        "evaluation",
        "app.evaluation:EvalConfig",
        "app.evaluation:run_evaluation",
        "Rate a candidate model against the production model and anchors.",
    )
)
register(
    JobType(
        "pipeline",
        "app.p2p.pipeline_job:PipelineJobConfig",
        "app.p2p.pipeline_job:run_pipeline_job",
        "Run cycles of the whole loop (selfplay, training, evaluation, promotion) for one config key.",
    )
)
