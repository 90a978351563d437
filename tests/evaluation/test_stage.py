import pytest
from pydantic import ValidationError

from app.core.errors import ModelNotFound
from app.evaluation import EvalConfig, EvalResult, config_ratings, run_evaluation
from app.evaluation.store import count_games, get_evaluation, load_games
from app.registry import PromotionPolicy


def _cfg(**kw) -> EvalConfig:
    base = dict(
        board_type="hex5",
        candidate="rollout_mcts_16",
        opponent="random",
        anchors=["random", "rollout_mcts_4"],
        anchors_games=4,
        calibration_games=4,
        max_games=400,
        batch_games=16,
        opening_moves=1,
        seed=0,
    )
    base.update(kw)
    return EvalConfig(**base)


def test_clear_difference_stops_early_and_is_stored(settings):
    seen = []
    result = run_evaluation(_cfg(), settings=settings, progress=lambda f, m: seen.append((f, m)))

    assert result.decision == "accept"
    assert result.games < 400 and result.games % 2 == 0 and result.pairs * 2 == result.games
    assert result.llr >= result.llr_upper and result.llr_path[-1] == result.llr
    assert sum(result.pentanomial) == result.pairs
    assert result.wins + result.draws + result.losses == result.games
    assert result.elo_ci_low > 0 < result.elo_delta
    assert (result.anchor_games, result.calibration_games) == (4, 4)

    rows = load_games(settings, "hex5_2p", evaluation_id=result.evaluation_id)
    assert len(rows) == count_games(settings, "hex5_2p") == result.games + 8
    gate = [r for r in rows if r.purpose == "gate"]
    assert len(gate) == result.games
    assert all(r.opening and r.moves[: len(r.opening)] == r.opening for r in rows)
    assert {tuple(sorted(r.players)) for r in gate} == {("random", "rollout_mcts_16")}

    row = get_evaluation(settings, result.evaluation_id)
    assert row.status == "finished" and row.decision == "accept"
    assert EvalResult.model_validate(row.result) == result

    rating = result.candidate_rating
    assert rating is not None and rating.elo > 0 and rating.ci_low < rating.elo < rating.ci_high
    assert {p.name for p in result.ratings} == {"rollout_mcts_16", "random", "rollout_mcts_4"}
    table = config_ratings("hex5_2p", settings=settings)
    assert table.get("rollout_mcts_16").elo == pytest.approx(rating.elo)

    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("LLR" in m for _, m in seen)

    evidence = result.evidence()
    assert evidence["sprt"] == "accept" and evidence["games"] == result.games
    policy = PromotionPolicy(require_sprt_accept=True, min_elo_ci_low=0.0, min_games=10)
    assert policy.check(elo_delta=evidence["elo_delta"], evidence=evidence) == []


def test_calibration_games_are_only_topped_up(settings):
    first = run_evaluation(_cfg(max_games=8, anchors_games=0), settings=settings)
    again = run_evaluation(_cfg(max_games=8, anchors_games=0, seed=1), settings=settings)
    assert first.calibration_games == 4 and again.calibration_games == 0
    assert first.decision == again.decision == "inconclusive" and first.games == 8


def test_multiplayer_gate_is_trinomial_over_rotations(settings):
    result = run_evaluation(
        _cfg(
            board_type="connect4",
            num_players=3,
            candidate="rollout_mcts_8",
            anchors=["random"],
            anchors_games=0,
            max_games=12,
            batch_games=6,
            opening_moves=0,
        ),
        settings=settings,
    )
    assert not result.paired and result.pentanomial is None and result.pairs == 0
    assert result.games == 12 and len(result.llr_path) == 2
    rows = load_games(settings, "connect4_3p")
    assert len(rows) == 12
    for r in rows:
        assert sorted(r.players) == ["random", "random", "rollout_mcts_8"]
    # Each opening group puts the candidate once in every seat.
    by_group = {}
    for r in rows:
        by_group.setdefault(r.opening_group, []).append(r.players.index("rollout_mcts_8"))
    assert all(sorted(seats) == [0, 1, 2] for seats in by_group.values())
    assert result.candidate_rating is not None


def test_network_models_are_loaded_from_the_registry(settings):
    torch = pytest.importorskip("torch")
    from app.games.registry import make_game
    from app.integration import ModelLifecycle
    from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint

    game = make_game("hex5", 2)
    lifecycle = ModelLifecycle(settings)
    for version in (0, 1):
        torch.manual_seed(version)
        net = PolicyValueNet.for_game(game, NetConfig(blocks=1, channels=8, value_hidden=16))
        path = settings.path("models", f"hex5_2p_v{version}.safetensors")
        meta = save_checkpoint(path, net, Lineage(config_key="hex5_2p", model_id=f"hex5_2p_v{version}"))
        lifecycle.register_model(
            f"hex5_2p_v{version}", "STAGING", artifact_path=str(path), sha256=meta.sha256
        )
    lifecycle.promote_to_production("hex5_2p_v0")

    result = run_evaluation(
        _cfg(candidate="hex5_2p_v1", opponent="production", max_games=4, num_simulations=2, anchors=[]),
        settings=settings,
    )
    assert result.opponent == "hex5_2p_v0" and result.games == 4
    assert result.decision in ("accept", "reject", "inconclusive")
    assert result.candidate_rating is None  # no games link it to random

    with pytest.raises(ValidationError, match="plays hex6_2p"):
        _cfg(candidate="hex6_2p_v1")


def test_missing_production_model_is_a_clear_error(settings):
    with pytest.raises(ModelNotFound, match="no production model"):
        run_evaluation(_cfg(candidate="rollout_mcts_4", opponent="production"), settings=settings)


def test_a_failing_agent_marks_the_evaluation_failed(settings, monkeypatch):
    import app.evaluation.stage as stage

    class Broken:
        name = "rollout_mcts_3"

        def select_actions(self, game, states, rng):
            raise RuntimeError("agent exploded")

    real = stage.make_agent
    monkeypatch.setattr(
        stage,
        "make_agent",
        lambda name, *a, **k: Broken() if name == "rollout_mcts_3" else real(name, *a, **k),
    )
    with pytest.raises(RuntimeError, match="exploded"):
        run_evaluation(_cfg(candidate="rollout_mcts_3"), settings=settings)
    from sqlalchemy import select

    from app.storage.db import session_scope
    from app.storage.models.evaluation import EvaluationRow

    with session_scope(settings) as s:
        (row,) = s.scalars(select(EvaluationRow)).all()
    assert row.status == "failed" and "agent exploded" in row.error


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"board_type": "chess"}, "unknown board type"),
        ({"num_players": 3}, "does not support"),
        ({"opponent": "rollout_mcts_16"}, "both"),
        ({"candidate": "production"}, "unknown player"),
        ({"opponent": "someone"}, "unknown player"),
        ({"elo0": 10.0, "elo1": 5.0}, "elo1"),
        ({"alpha": 0.6, "beta": 0.5}, "alpha"),
        ({"anchors": ["hex5_2p_v1"]}, "not an anchor"),
        ({"anchors": ["random", "random"]}, "twice"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_bad_configs_are_refused(changes, message):
    with pytest.raises(ValidationError, match=message):
        _cfg(**changes)


def test_generation_zero_opponent_searches_with_uniform_priors(settings):
    # The pipeline's first opponent before any model exists: MCTS with uniform priors at a fixed budget.
    result = run_evaluation(
        _cfg(candidate="rollout_mcts_8", opponent="uniform_mcts_4", max_games=4, anchors=[]),
        settings=settings,
    )
    assert result.opponent == "uniform_mcts_4" and result.games == 4
    rows = load_games(settings, "hex5_2p")
    assert {tuple(sorted(r.players)) for r in rows} == {("rollout_mcts_8", "uniform_mcts_4")}


def test_a_seed_reproduces_every_game(settings):
    cfg = _cfg(max_games=8, anchors=[], batch_games=4, opening_moves=2)
    a, b = run_evaluation(cfg, settings=settings), run_evaluation(cfg, settings=settings)
    moves = [
        [r.moves for r in load_games(settings, "hex5_2p", evaluation_id=e.evaluation_id)] for e in (a, b)
    ]
    assert moves[0] == moves[1] and len(moves[0]) == 8
    assert a.llr_path == b.llr_path
    other = run_evaluation(cfg.model_copy(update={"seed": 1}), settings=settings)
    assert [r.moves for r in load_games(settings, "hex5_2p", evaluation_id=other.evaluation_id)] != moves[0]
