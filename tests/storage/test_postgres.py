"""The same storage code on PostgreSQL: migrations, the lifecycle (with its one-production guarantee under
concurrent writers) and the feedback loop, against a server this module starts on a free loopback port."""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.config import get_settings, reset_settings
from app.core.errors import AlreadyExists, InvalidTransition, ModelNotFound, PromotionRejected
from app.integration.feedback import Action, FeedbackType, PipelineFeedback
from app.integration.pipeline_state import PipelineState
from app.registry import ModelLifecycle, ModelStage, PromotionPolicy
from app.storage.db import dispose_engines, get_engine
from tests.conftest import require
from tests.integration.test_seed_blocks import seed_blocks
from tests.registry.lifecycle_race import check_race_outcome, race_promotions

pytestmark = pytest.mark.postgres
S = ModelStage


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    """A throwaway PostgreSQL server; yields the SQLAlchemy URL prefix ``postgresql+psycopg://...:port/``."""
    bindir = _pg_bindir()
    require(bindir is not None, "PostgreSQL server binaries (Debian package postgresql)")
    require(importlib.util.find_spec("psycopg") is not None, "the psycopg driver (extra 'postgres')")
    as_root = os.geteuid() == 0
    if as_root:  # initdb refuses to run as root: run the server as the postgres user
        require(shutil.which("runuser") is not None, "runuser (util-linux) to start PostgreSQL as root")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    tmp = Path(tempfile.mkdtemp(prefix="zeroloop-pg-"))
    if as_root:
        shutil.chown(tmp, "postgres", "postgres")
    data, log, port = tmp / "data", tmp / "server.log", _free_port()
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={tmp} -c fsync=off"
    started = False
    try:
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/"
    except subprocess.CalledProcessError as exc:
        server_log = log.read_text() if log.exists() else ""
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.decode()}\n{server_log}")
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def pg(pg_server: str, home, monkeypatch) -> Iterator[str]:
    """A fresh database on the server, selected for this test through ZEROLOOP_DATABASE_URL."""
    import psycopg

    name = f"zl_{uuid.uuid4().hex[:12]}"
    admin = pg_server.replace("postgresql+psycopg://", "postgresql://") + "postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_server + name
    monkeypatch.setenv("ZEROLOOP_DATABASE_URL", url)
    reset_settings()
    dispose_engines()
    yield url
    dispose_engines()
    with contextlib.suppress(Exception), psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_create_the_tables_and_the_partial_index(pg):
    settings = get_settings()
    assert not settings.is_sqlite and settings.db_url == pg
    with get_engine(settings).connect() as conn:
        tables = set(
            conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        )
        indexdef = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_models_one_production_per_run'")
        ).scalar()
    assert {"models", "model_transitions", "feedback_events", "feedback_applied", "pipeline_runs"} <= tables
    assert "UNIQUE" in indexdef and "WHERE" in indexdef and "PRODUCTION" in indexdef
    assert "(config_key, run)" in indexdef  # one production model per run (lifecycle_0003)


def test_each_run_keeps_its_own_production_model(pg):
    lc = ModelLifecycle()
    for model_id in ("hex8_2p_v1", "hex8_2p_wide_v2", "hex8_2p_wide_v3"):
        lc.register_model(model_id, S.EVALUATION)
        lc.promote_to_production(model_id)
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v1"
    assert lc.get_production("hex8_2p", "wide").model_id == "hex8_2p_wide_v3"
    assert lc.rollback("hex8_2p", run="wide", reason="r").model_id == "hex8_2p_wide_v2"
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v1"
    state = PipelineState(get_settings(), "hex8_2p", "wide")
    state.save_run(fork_model_id="hex8_2p_v1", settings={})
    state.create_cycle(
        1, settings={}, changes=[], candidate_model_id="hex8_2p_wide_v2", opponent="hex8_2p_v1"
    )
    main = PipelineState(get_settings(), "hex8_2p")
    main.create_cycle(1, settings={}, changes=[], candidate_model_id="hex8_2p_v1", opponent="uniform_mcts_4")
    assert [c.run for c in state.cycles()] == ["wide"] and [c.run for c in main.cycles()] == ["main"]


def test_lifecycle_basics(pg):
    lc = ModelLifecycle()
    lc.register_model(model_id="hex8_2p_v3", stage=ModelStage.TRAINING, metadata={"node": "a"})
    lc.promote_model(model_id="hex8_2p_v3", stage=ModelStage.EVALUATION, elo_delta=45)
    lc.promote_to_production("hex8_2p_v3")
    lc.register_model("hex8_2p_v4", S.EVALUATION, parent_model_id="hex8_2p_v3")
    with pytest.raises(PromotionRejected, match="min_games"):
        lc.promote_to_production("hex8_2p_v4", policy=PromotionPolicy(min_games=100), evidence={"games": 10})
    lc.promote_model("hex8_2p_v4", S.STAGING, evidence={"games": 400, "sprt": "accept"})
    lc.promote_to_production("hex8_2p_v4", elo_delta=22)
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v4"
    assert lc.get_model("hex8_2p_v3").stage is S.RETIRED
    assert [(t.from_stage, t.to_stage) for t in lc.history("hex8_2p_v3")] == [
        (None, S.TRAINING),
        (S.TRAINING, S.EVALUATION),
        (S.EVALUATION, S.PRODUCTION),
        (S.PRODUCTION, S.RETIRED),
    ]
    assert lc.history("hex8_2p_v4")[1].evidence == {"games": 400, "sprt": "accept"}
    assert lc.rollback("hex8_2p", reason="regressed").model_id == "hex8_2p_v3"
    assert lc.get_model("hex8_2p_v4").stage is S.RETIRED
    assert [m.model_id for m in lc.lineage("hex8_2p_v4")] == ["hex8_2p_v4", "hex8_2p_v3"]
    with pytest.raises(InvalidTransition):
        lc.promote_model("hex8_2p_v4", S.STAGING)
    with pytest.raises(AlreadyExists):
        lc.register_model("hex8_2p_v4")
    with pytest.raises(ModelNotFound):
        lc.get_model("hex8_2p_v9")


def test_database_refuses_a_second_production_model(pg):
    lc = ModelLifecycle()
    lc.register_model("hex8_2p_v1", S.EVALUATION)
    lc.register_model("hex8_2p_v2", S.EVALUATION)
    lc.promote_to_production("hex8_2p_v1")
    with pytest.raises(IntegrityError), get_engine().begin() as conn:
        conn.execute(text("UPDATE models SET stage = 'PRODUCTION' WHERE model_id = 'hex8_2p_v2'"))


def test_concurrent_promotions_leave_exactly_one_production_model(pg):
    check_race_outcome(race_promotions(processes=4, models_per_process=3))


def test_feedback_basics(pg):
    fb = PipelineFeedback()
    for loss, val in [(1.0, 1.0), (0.9, 1.05), (0.8, 1.1)]:
        fb.record(FeedbackType.TRAINING_COMPLETE, "hex8_2p_v1", {"loss": loss, "val_loss": val})
    fb.record(FeedbackType.PIPELINE_ERROR, config_key="hex6_2p", metrics={"error": "CUDA out of memory"})
    with pytest.raises(ValueError):
        fb.record(FeedbackType.TRAINING_COMPLETE, "hex8_2p_v2", {"loss": float("nan")})
    assert len(fb.history()) == 4
    recs = fb.get_recommendations()
    assert [r.action for r in recs] == [Action.REDUCE_BATCH_SIZE, Action.REDUCE_OVERFITTING]
    fb.mark_applied(recs[0])
    assert PipelineFeedback().get_recommendations() == recs[1:]


def test_seed_blocks_run_on_postgres(pg):
    feedback_block, lifecycle_block = seed_blocks()
    exec(compile(feedback_block, "seed:pipeline-feedback", "exec"), {})
    exec(compile(lifecycle_block, "seed:model-lifecycle", "exec"), {})
    assert ModelLifecycle().get_production("hex8_2p").model_id == "hex8_2p_v3"
    assert [e.model_id for e in PipelineFeedback().history()] == ["hex8_2p_v3"]
