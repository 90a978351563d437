"""The evaluation job's transfer seam: the players' checkpoints go out, the games played come back.

Node side, before the task: the candidate and the opponent are resolved here (``production`` becomes a model id)
and pinned in the config, and the checkpoint of every player that is a model (an anchor may be one) is sent. An
evaluation that must first top up the games between neighbouring anchors stays on the node (``StayOnNode``): what
is missing is a count over the node's stored games; otherwise the task is told none are (``calibration_games=0``).
Task side: the checkpoints are registered in the scratch installation and the stage plays the gate (SPRT) and the
anchor games as it always does. Node side, after: the games are stored in one transaction under the task's
evaluation id (so an outcome accepted twice stores them once), every stored game of the config key is fitted with
the anchors pinned once calibrated, and the result carries the node's ratings beside the task's SPRT figures.
"""

from __future__ import annotations

from typing import Any

from app.core.config import Settings
from app.core.errors import ChecksumMismatch
from app.core.names import PlayerKind, parse_player
from app.evaluation import store
from app.evaluation.arena import PlayedGame
from app.evaluation.config import EvalConfig, EvalResult
from app.evaluation.players import resolve_name
from app.evaluation.scale import scale_fit
from app.evaluation.stage import rated_result
from app.p2p.remote_models import install_model, model_blob
from app.p2p.transfer import Blob, RemoteOutcome, StayOnNode

MODEL_PREFIX = "model:"


class EvaluationAdapter:
    def prepare(self, settings: Settings, config: dict[str, Any]) -> tuple[dict[str, Any], list[Blob]]:
        cfg = EvalConfig.model_validate(config)
        key = cfg.config_key
        for weaker, stronger in zip(cfg.anchors, cfg.anchors[1:], strict=False):
            if store.count_games_between(settings, key, [weaker, stronger]) < cfg.calibration_games:
                raise StayOnNode(
                    f"the games between anchors {weaker} and {stronger} are topped up on the node"
                )
        candidate, opponent = (resolve_name(name, key, settings) for name in (cfg.candidate, cfg.opponent))
        pinned = cfg.model_copy(update={"candidate": candidate, "opponent": opponent, "calibration_games": 0})
        models = dict.fromkeys(
            name
            for name in (candidate, opponent, *cfg.anchors)
            if parse_player(name, config_key=key).kind is PlayerKind.MODEL
        )
        return pinned.model_dump(mode="json"), [model_blob(settings, m, MODEL_PREFIX) for m in models]

    def materialize(self, scratch: Settings, config: dict[str, Any], inputs: list[Blob]) -> None:
        for blob in inputs:
            install_model(scratch, blob.name.removeprefix(MODEL_PREFIX), blob)

    def collect(self, scratch: Settings, config: dict[str, Any], result: Any) -> RemoteOutcome:
        evaluated = EvalResult.model_validate(result)
        rows = store.load_games(scratch, evaluated.config_key, evaluation_id=evaluated.evaluation_id)
        games = [
            {"purpose": r.purpose, "players": list(r.players), "returns": list(r.returns),
             "opening": list(r.opening), "moves": list(r.moves), "opening_group": r.opening_group}
            for r in rows
        ]  # fmt: skip
        return RemoteOutcome(result=result, extra={"games": games})

    def accept(self, settings: Settings, config: dict[str, Any], outcome: RemoteOutcome) -> Any:
        cfg = EvalConfig.model_validate(config)
        remote = EvalResult.model_validate(outcome.result)
        try:
            existing = store.get_evaluation(settings, remote.evaluation_id)
        except store.EvaluationNotFound:
            existing = None
        if existing is not None and existing.status == "finished":
            return EvalResult.model_validate(existing.result)  # accepted before: its games are stored
        games = [
            (g["purpose"], PlayedGame(tuple(g["players"]), tuple(g["returns"]), tuple(g["opening"]),
                                      tuple(g["moves"]), g["opening_group"]))
            for g in outcome.extra.get("games", [])
        ]  # fmt: skip
        played = remote.games + remote.anchor_games + remote.calibration_games
        if len(games) != played:
            raise ChecksumMismatch(
                f"the remote evaluation {remote.evaluation_id} reported {played} games and sent {len(games)}"
            )
        if existing is None:
            store.create_evaluation(
                settings, config_key=cfg.config_key, candidate=remote.candidate, opponent=remote.opponent,
                config=config, evaluation_id=remote.evaluation_id,
            )  # fmt: skip
        # One transaction stores all of them or none: a second try after a crash finds all or none.
        if not store.load_games(settings, cfg.config_key, evaluation_id=remote.evaluation_id):
            store.save_mixed_games(settings, cfg.config_key, games, evaluation_id=remote.evaluation_id)
        result = rated_result(remote, scale_fit(settings, cfg.config_key), cfg.anchors)
        store.finish_evaluation(
            settings, remote.evaluation_id, decision=result.decision, result=result.model_dump(mode="json")
        )
        return result
