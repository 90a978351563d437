"""A second run over the seeded history: ``wide`` forked from v2, two models promoted in it, rated by sampled games
on the config key's one scale; both runs' settings recorded as ``zeroloop run`` records them."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.config import Settings
from app.integration.pipeline_config import defaults_for
from app.integration.pipeline_state import PipelineState
from app.registry import ModelLifecycle, ModelStage
from tests.web.dashboard.seed_history import KEY, STRENGTH, Arena, SeededHistory, evaluate, seed_history

FORK = f"{KEY}_v2"
WIDE = (f"{KEY}_wide_v6", f"{KEY}_wide_v7")


@dataclass
class SeededRuns:
    history: SeededHistory
    fork: str = FORK
    wide: tuple[str, ...] = WIDE


def seed_runs(settings: Settings) -> SeededRuns:
    history = seed_history(settings)
    STRENGTH.update({WIDE[0]: 380.0, WIDE[1]: 520.0})  # new names only: the seeded players keep theirs
    lifecycle, arena = ModelLifecycle(settings), Arena(settings, seed=13)
    parent = FORK
    for model_id in WIDE:
        lifecycle.register_model(model_id, ModelStage.EVALUATION, parent_model_id=parent)
        result = evaluate(arena, model_id, parent, calibrate=False)
        lifecycle.promote_to_production(model_id, reason="gate", evidence=result.evidence())
        parent = model_id
    main = defaults_for(KEY)
    wide = main.model_copy(
        update={"gate_max_games": 300, "cycle": main.cycle.model_copy(update={"num_simulations": 200})}
    )
    PipelineState(settings, KEY).save_run(fork_model_id=None, settings=main.model_dump(mode="json"))
    PipelineState(settings, KEY, "wide").save_run(fork_model_id=FORK, settings=wide.model_dump(mode="json"))
    return SeededRuns(history)
