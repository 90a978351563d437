"""Several processes promoting different models of one config key at once (used on SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing as mp

from app.registry import ModelLifecycle, ModelStage

CONFIG = "hex8_2p"


def _promote_all(model_ids: list[str], barrier) -> None:
    lifecycle = ModelLifecycle()  # settings from the environment the parent set up
    barrier.wait(timeout=120)
    for model_id in model_ids:
        lifecycle.promote_to_production(model_id, reason="race")


def race_promotions(*, processes: int = 4, models_per_process: int = 3) -> list[str]:
    """Register v0 (production) and processes × models_per_process candidates, then let the processes promote
    their candidates concurrently. Returns every model id of the config key."""
    lifecycle = ModelLifecycle()
    lifecycle.register_model(f"{CONFIG}_v0", ModelStage.EVALUATION)
    lifecycle.promote_to_production(f"{CONFIG}_v0")
    groups: list[list[str]] = []
    for p in range(processes):
        group = []
        for j in range(models_per_process):
            mid = f"{CONFIG}_v{1 + p * models_per_process + j}"
            # half enter PRODUCTION from EVALUATION, half from STAGING: both edges of the table race
            lifecycle.register_model(mid, ModelStage.EVALUATION if j % 2 == 0 else ModelStage.STAGING)
            group.append(mid)
        groups.append(group)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    procs = [ctx.Process(target=_promote_all, args=(g, barrier)) for g in groups]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=300)
    codes = [proc.exitcode for proc in procs]
    assert codes == [0] * processes, f"promoting processes failed: exit codes {codes}"
    return [f"{CONFIG}_v0", *(m for g in groups for m in g)]


def check_race_outcome(model_ids: list[str]) -> None:
    lifecycle = ModelLifecycle()
    models = {m.model_id: m for m in lifecycle.list_models(CONFIG)}
    assert sorted(models) == sorted(model_ids)
    production = [m for m in models.values() if m.stage is ModelStage.PRODUCTION]
    assert len(production) == 1, f"expected one PRODUCTION model, found {[m.model_id for m in production]}"
    assert all(m.stage is ModelStage.RETIRED for m in models.values() if m is not production[0])
    assert lifecycle.get_production(CONFIG) == production[0]

    # Each model's own history is one unbroken chain ending at its current stage.
    for model_id, model in models.items():
        chain = lifecycle.history(model_id)
        assert chain[0].from_stage is None
        for before, after in zip(chain, chain[1:], strict=False):
            assert after.from_stage is before.to_stage, (model_id, chain)
        assert chain[-1].to_stage is model.stage
        assert sum(t.to_stage is ModelStage.PRODUCTION for t in chain) == 1

    # Across the config key, PRODUCTION passed from hand to hand: never two holders, never a gap inside
    # one promotion, and the last one to arrive holds it.
    holder = None
    entries = 0
    for t in lifecycle.config_history(CONFIG):
        if t.from_stage is ModelStage.PRODUCTION:
            assert holder == t.model_id
            holder = None
        if t.to_stage is ModelStage.PRODUCTION:
            assert holder is None, f"{t.model_id} entered PRODUCTION while {holder} held it"
            holder = t.model_id
            entries += 1
    assert holder == production[0].model_id
    assert entries == len(model_ids)
