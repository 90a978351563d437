import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.errors import AlreadyExists, InvalidTransition, ModelNotFound
from app.registry import (
    ENTRY_STAGES,
    TRANSITIONS,
    ModelLifecycle,
    ModelRecord,
    ModelStage,
    Transition,
)
from app.storage.db import get_engine

S = ModelStage
SHA = "ab" * 32


@pytest.fixture
def lc(settings) -> ModelLifecycle:
    return ModelLifecycle(settings)


def to_stage(lc: ModelLifecycle, model_id: str, stage: ModelStage) -> None:
    """Walk a freshly registered TRAINING model to ``stage`` along the shortest path of the table."""
    path = {
        S.TRAINING: [],
        S.EVALUATION: [S.EVALUATION],
        S.STAGING: [S.EVALUATION, S.STAGING],
        S.PRODUCTION: [S.EVALUATION, S.PRODUCTION],
        S.RETIRED: [S.RETIRED],
    }[stage]
    for step in path:
        lc.promote_model(model_id, step)


def test_stages_are_exactly_the_seeds():
    assert [s.value for s in ModelStage] == ["TRAINING", "EVALUATION", "STAGING", "PRODUCTION", "RETIRED"]


def test_transition_table_is_the_documented_one():
    assert dict(TRANSITIONS) == {
        S.TRAINING: {S.EVALUATION, S.RETIRED},
        S.EVALUATION: {S.STAGING, S.PRODUCTION, S.RETIRED},
        S.STAGING: {S.PRODUCTION, S.RETIRED},
        S.PRODUCTION: {S.RETIRED},
        S.RETIRED: set(),
    }


def test_every_pair_of_stages_follows_the_table(lc):
    pairs = list(itertools.product(list(ModelStage), list(ModelStage)))
    for version, (start, target) in enumerate(pairs):
        model_id = f"hex8_2p_v{version}"
        lc.register_model(model_id)
        to_stage(lc, model_id, start)
        if target in TRANSITIONS[start]:
            assert lc.promote_model(model_id, target).stage is target
            assert lc.history(model_id)[-1].to_stage is target
            continue
        before = lc.history(model_id)
        with pytest.raises(InvalidTransition) as err:
            lc.promote_model(model_id, target)
        msg = str(err.value)
        assert model_id in msg and f"from {start} to {target}" in msg
        allowed = ", ".join(s.value for s in ModelStage if s in TRANSITIONS[start]) or "none"
        assert f"allowed from {start}: {allowed}" in msg
        assert lc.get_model(model_id).stage is start
        assert lc.history(model_id) == before


def test_seed_sequence_and_history(lc):
    lc.register_model(model_id="hex8_2p_v3", stage=ModelStage.TRAINING)
    lc.promote_model(model_id="hex8_2p_v3", stage=ModelStage.EVALUATION, elo_delta=45)
    record = lc.promote_to_production("hex8_2p_v3")
    assert isinstance(record, ModelRecord)
    assert (record.model_id, record.config_key, record.version, record.stage) == (
        "hex8_2p_v3",
        "hex8_2p",
        3,
        S.PRODUCTION,
    )
    hist = lc.history("hex8_2p_v3")
    assert all(isinstance(t, Transition) for t in hist)
    assert [(t.from_stage, t.to_stage) for t in hist] == [
        (None, S.TRAINING),
        (S.TRAINING, S.EVALUATION),
        (S.EVALUATION, S.PRODUCTION),
    ]
    assert [t.elo_delta for t in hist] == [None, 45.0, None]
    assert hist[0].at <= hist[1].at <= hist[2].at and hist[0].at.tzinfo is not None
    assert lc.get_production("hex8_2p") == record


def test_records_are_frozen(lc):
    record = lc.register_model("hex8_2p_v1")
    with pytest.raises(AttributeError):
        record.stage = S.PRODUCTION


def test_history_keeps_reason_and_evidence(lc):
    lc.register_model("hex8_2p_v1", S.EVALUATION)
    evidence = {"games": 400, "elo_ci_low": 12.5, "elo_ci_high": 61.0, "llr": 2.95, "sprt": "accept"}
    lc.promote_model("hex8_2p_v1", S.STAGING, elo_delta=37.5, reason="gate passed", evidence=evidence)
    last = lc.history("hex8_2p_v1")[-1]
    assert (last.reason, last.evidence, last.elo_delta) == ("gate passed", evidence, 37.5)


def test_model_id_parses_into_config_key_and_version_with_overrides(lc):
    m = lc.register_model("connect6x7_3p_v12")
    assert (m.config_key, m.version) == ("connect6x7_3p", 12)
    m = lc.register_model("hex8_2p_best", config_key="hex8_2p", version=7)
    assert (m.model_id, m.config_key, m.version) == ("hex8_2p_best", "hex8_2p", 7)
    m = lc.register_model("hex8_2p_v2", config_key="hex6_2p")
    assert (m.config_key, m.version) == ("hex6_2p", 2)


@pytest.mark.parametrize("bad", ["hex8_2p", "hex8-2p-v3", "v3", "", "hex8_2p_vx"])
def test_malformed_model_id_is_a_value_error(lc, bad):
    with pytest.raises(ValueError, match="model"):
        lc.register_model(bad)
    assert lc.list_models() == []


def test_bad_inputs_are_value_errors_and_store_nothing(lc):
    with pytest.raises(ValueError, match="sha256"):
        lc.register_model("hex8_2p_v1", sha256="abc")
    with pytest.raises(ValueError, match="version"):
        lc.register_model("hex8_2p_best", config_key="hex8_2p", version=-1)
    with pytest.raises(ValueError, match="unknown model stage"):
        lc.register_model("hex8_2p_v1", "testing")
    with pytest.raises(ValueError, match="metrics"):
        lc.register_model("hex8_2p_v1", metrics={"loss": float("nan")})
    with pytest.raises(ValueError, match="config key"):
        lc.register_model("hex8_2p_v1", config_key="hex8")
    assert lc.list_models() == []
    lc.register_model("hex8_2p_v1")
    with pytest.raises(ValueError, match="elo_delta"):
        lc.promote_model("hex8_2p_v1", S.EVALUATION, elo_delta=float("inf"))
    with pytest.raises(ValueError, match="evidence"):
        lc.promote_model("hex8_2p_v1", S.EVALUATION, evidence={"games": float("nan")})
    assert len(lc.history("hex8_2p_v1")) == 1


def test_register_only_at_entry_stages(lc):
    assert ENTRY_STAGES == (S.TRAINING, S.EVALUATION, S.STAGING)
    for stage in (S.PRODUCTION, S.RETIRED):
        with pytest.raises(InvalidTransition, match="promote_to_production"):
            lc.register_model("hex8_2p_v1", stage)
    assert lc.register_model("hex8_2p_v1", "staging").stage is S.STAGING


def test_duplicates_are_refused_with_the_next_free_version(lc):
    lc.register_model("hex8_2p_v3")
    with pytest.raises(
        AlreadyExists, match=r"hex8_2p_v3.*already registered.*next free version of hex8_2p is 4"
    ):
        lc.register_model("hex8_2p_v3")
    with pytest.raises(AlreadyExists, match="version 3 of hex8_2p is already model 'hex8_2p_v3'"):
        lc.register_model("hex8_2p_other", config_key="hex8_2p", version=3)
    assert [m.model_id for m in lc.list_models()] == ["hex8_2p_v3"]
    assert len(lc.history("hex8_2p_v3")) == 1


def test_unknown_ids_raise_model_not_found_listing_known_ones(lc):
    lc.register_model("hex8_2p_v1")
    for call in (
        lambda: lc.get_model("hex8_2p_v9"),
        lambda: lc.promote_model("hex8_2p_v9", S.EVALUATION),
        lambda: lc.promote_to_production("hex8_2p_v9"),
        lambda: lc.history("hex8_2p_v9"),
        lambda: lc.lineage("hex8_2p_v9"),
    ):
        with pytest.raises(ModelNotFound, match=r"'hex8_2p_v9'.*models of hex8_2p: hex8_2p_v1"):
            call()
    with pytest.raises(LookupError):
        lc.get_model("nonsense")


def test_production_supersedes_previous_in_one_step(lc):
    for v in (1, 2, 3):
        lc.register_model(f"hex8_2p_v{v}", S.EVALUATION)
    lc.register_model("hex6_2p_v1", S.EVALUATION)
    lc.promote_to_production("hex8_2p_v1")
    lc.promote_to_production("hex6_2p_v1")
    lc.promote_model("hex8_2p_v2", S.STAGING)
    lc.promote_to_production("hex8_2p_v2", elo_delta=20, reason="better")
    stages = {m.model_id: m.stage for m in lc.list_models()}
    assert stages == {
        "hex6_2p_v1": S.PRODUCTION,  # another config key is untouched
        "hex8_2p_v1": S.RETIRED,
        "hex8_2p_v2": S.PRODUCTION,
        "hex8_2p_v3": S.EVALUATION,
    }
    retire, enter = lc.config_history("hex8_2p")[-2:]
    assert (retire.model_id, retire.from_stage, retire.to_stage, retire.kind) == (
        "hex8_2p_v1",
        S.PRODUCTION,
        S.RETIRED,
        "supersede",
    )
    assert retire.evidence == {"superseded_by": "hex8_2p_v2"} and retire.at == enter.at
    assert (enter.model_id, enter.to_stage, enter.elo_delta, enter.reason) == (
        "hex8_2p_v2",
        S.PRODUCTION,
        20.0,
        "better",
    )
    # promote_model(..., PRODUCTION) is the same operation
    lc.promote_model("hex8_2p_v3", S.PRODUCTION)
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v3"
    assert [m.model_id for m in lc.list_models("hex8_2p", S.PRODUCTION)] == ["hex8_2p_v3"]


def test_database_itself_refuses_a_second_production_model(lc, settings):
    lc.register_model("hex8_2p_v1", S.EVALUATION)
    lc.register_model("hex8_2p_v2", S.EVALUATION)
    lc.register_model("hex6_2p_v1", S.EVALUATION)
    lc.promote_to_production("hex8_2p_v1")
    engine = get_engine(settings)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE models SET stage = 'PRODUCTION' WHERE model_id = 'hex8_2p_v2'"))
    with engine.begin() as conn:  # other config keys and other stages are not constrained
        conn.execute(text("UPDATE models SET stage = 'PRODUCTION' WHERE model_id = 'hex6_2p_v1'"))
        conn.execute(text("UPDATE models SET stage = 'STAGING' WHERE model_id = 'hex8_2p_v2'"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE models SET stage = 'LIVE' WHERE model_id = 'hex8_2p_v2'"))


def test_rollback_walks_back_the_production_line(lc):
    for v in (1, 2, 3):
        lc.register_model(f"hex8_2p_v{v}", S.EVALUATION)
        lc.promote_to_production(f"hex8_2p_v{v}")
    restored = lc.rollback("hex8_2p", reason="v3 regressed by 40 Elo")
    assert restored.model_id == "hex8_2p_v2" and restored.stage is S.PRODUCTION
    assert lc.get_model("hex8_2p_v3").stage is S.RETIRED
    out, back = lc.config_history("hex8_2p")[-2:]
    assert (out.model_id, out.from_stage, out.to_stage, out.kind, out.reason) == (
        "hex8_2p_v3",
        S.PRODUCTION,
        S.RETIRED,
        "rollback",
        "v3 regressed by 40 Elo",
    )
    assert (back.model_id, back.from_stage, back.to_stage, back.kind) == (
        "hex8_2p_v2",
        S.RETIRED,
        S.PRODUCTION,
        "rollback",
    )
    assert back.evidence == {"rolled_back_from": "hex8_2p_v3"}
    # a second rollback goes further back rather than returning to the rolled-back v3
    assert lc.rollback("hex8_2p", reason="v2 too").model_id == "hex8_2p_v1"
    with pytest.raises(ModelNotFound, match="no earlier production model of hex8_2p"):
        lc.rollback("hex8_2p", reason="once more")
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v1"
    # a model brought back and superseded again is a rollback target again
    lc.register_model("hex8_2p_v4", S.EVALUATION)
    lc.promote_to_production("hex8_2p_v4")
    assert lc.rollback("hex8_2p", reason="v4 bad").model_id == "hex8_2p_v1"


def test_rollback_errors(lc):
    with pytest.raises(ValueError, match="config key"):
        lc.rollback("hex8", reason="x")
    with pytest.raises(ModelNotFound, match="current production: none"):
        lc.rollback("hex8_2p", reason="x")
    with pytest.raises(ValueError, match="reason"):
        lc.rollback("hex8_2p", reason=" ")


def test_rollback_without_current_production_restores_the_last_one(lc):
    for v in (1, 2):
        lc.register_model(f"hex8_2p_v{v}", S.EVALUATION)
        lc.promote_to_production(f"hex8_2p_v{v}")
    lc.retire_model("hex8_2p_v2", reason="withdrawn")
    assert lc.get_production("hex8_2p") is None
    assert lc.rollback("hex8_2p", reason="need a model").model_id == "hex8_2p_v2"


def test_lineage_metadata_and_queries(lc, home):
    lc.register_model(
        "hex8_2p_v1",
        artifact_path=home / "ckpt" / "v1.safetensors",
        sha256=SHA,
        training_config={"epochs": 4, "learning_rate": 1e-3},
        metrics={"loss": 0.9},
        metadata={"node": "a"},
    )
    lc.register_model("hex8_2p_v2", parent_model_id="hex8_2p_v1")
    lc.register_model("hex8_2p_v3", parent_model_id="hex8_2p_v2")
    lc.register_model("hex6_2p_v1", S.STAGING)
    v1 = lc.get_model("hex8_2p_v1")
    assert (v1.artifact_path, v1.sha256, v1.training_config, v1.metrics, v1.metadata) == (
        str(home / "ckpt" / "v1.safetensors"),
        SHA,
        {"epochs": 4, "learning_rate": 1e-3},
        {"loss": 0.9},
        {"node": "a"},
    )
    assert [m.model_id for m in lc.lineage("hex8_2p_v3")] == ["hex8_2p_v3", "hex8_2p_v2", "hex8_2p_v1"]
    assert [m.model_id for m in lc.list_models()] == ["hex6_2p_v1", "hex8_2p_v1", "hex8_2p_v2", "hex8_2p_v3"]
    assert [m.model_id for m in lc.list_models(stage="staging")] == ["hex6_2p_v1"]
    assert [m.model_id for m in lc.list_models(config_key="hex8_2p", stage=S.TRAINING)] == [
        "hex8_2p_v1",
        "hex8_2p_v2",
        "hex8_2p_v3",
    ]
    assert lc.get_production("hex8_2p") is None
    updated = lc.update_model(
        "hex8_2p_v2", artifact_path=home / "x.safetensors", sha256=SHA, metrics={"loss": 0.5}
    )
    assert (updated.artifact_path, updated.metrics, updated.stage) == (
        str(home / "x.safetensors"),
        {"loss": 0.5},
        S.TRAINING,
    )
    with pytest.raises(ValueError, match="own parent"):
        lc.register_model("hex8_2p_v9", parent_model_id="hex8_2p_v9")


def test_default_settings_and_persistence_across_instances(home):
    ModelLifecycle().register_model("hex8_2p_v1")
    assert (home / "zeroloop.db").exists()
    assert ModelLifecycle().get_model("hex8_2p_v1").stage is S.TRAINING
