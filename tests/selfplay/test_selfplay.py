import numpy as np
import pytest
from pydantic import ValidationError

from app.games.registry import make_game
from app.nn import uniform_evaluator
from app.search import BatchedMCTS, MCTSConfig
from app.selfplay import SelfplayConfig, run_selfplay
from app.selfplay.play import PlaySettings, play_games
from app.storage.shards import ShardStore
from tests.tiny_models import register_tiny_model


def _cfg(**kw):
    base = dict(board_type="hex5", num_players=2, games=6, num_simulations=8, parallel_games=4, seed=3)
    base.update(kw)
    return SelfplayConfig(**base)


def test_positions_match_the_games_played():
    game = make_game("connect4", 2)
    positions, records = play_games(
        game,
        uniform_evaluator(game.action_size, game.num_players),
        MCTSConfig(num_simulations=4),
        games=5,
        parallel_games=3,
        play=PlaySettings(temperature_moves=100),
        rng=np.random.default_rng(0),
    )
    assert [r.index for r in records] == list(range(5))
    assert len(positions.game_id) == sum(r.length for r in records)
    assert np.allclose(positions.policy.sum(axis=1), 1.0)
    for r in records:
        # Replaying the moves reproduces the stored result; the value targets are the result seen by each mover.
        state = game.initial_state()
        rows = np.flatnonzero(positions.game_id == r.index)
        for move, row in zip(r.moves, rows, strict=True):
            mover = game.current_player(state)
            np.testing.assert_array_equal(positions.planes[row], game.encode(state))
            assert positions.policy[row][~game.legal_mask(state)].sum() == 0
            assert positions.value[row][0] == r.returns[mover]
            state = game.apply(state, move)
        assert game.is_terminal(state) and list(game.returns(state)) == r.returns


def test_value_target_blends_the_result_with_the_root_value():
    game = make_game("hex5", 2)

    def play(weight: float):
        return play_games(
            game,
            uniform_evaluator(game.action_size, game.num_players),
            MCTSConfig(num_simulations=16),
            games=4,
            parallel_games=4,
            play=PlaySettings(value_q_weight=weight),
            rng=np.random.default_rng(7),
        )

    (result, records), (half, _), (root, root_records) = play(0.0), play(0.5), play(1.0)
    # The same games were played; only the targets differ.
    assert [r.moves for r in records] == [r.moves for r in root_records]
    assert np.abs(result.value).min() == 1.0 and not np.allclose(root.value, result.value)
    assert np.abs(root.value).max() <= 1.0
    np.testing.assert_allclose(half.value, 0.5 * result.value + 0.5 * root.value, atol=1e-6)


def test_run_writes_a_shard_once_and_a_rerun_replays_nothing(settings):
    first = run_selfplay(_cfg(), settings=settings)
    assert not first.reused and first.games == 6 and first.model_id == "uniform"
    assert sum(first.wins_by_seat) + first.draws == 6  # Hex has no draws; every game has one winner
    again = run_selfplay(_cfg(), settings=settings)
    assert again.reused and again.shard_name == first.shard_name and again.positions == first.positions
    shards = ShardStore(settings).newest("hex5_2p", 10**9)
    assert [s.name for s in shards] == [first.shard_name]
    data = ShardStore(settings).load(shards[0])
    assert data.positions == first.positions and len(np.unique(data.game_id)) == 6


def test_seeded_runs_are_reproducible(settings):
    a = run_selfplay(_cfg(shard_name="a"), settings=settings)
    b = run_selfplay(_cfg(shard_name="b"), settings=settings)
    store = ShardStore(settings)
    da, db = (store.load(store.get("hex5_2p", n)) for n in ("a", "b"))
    assert a.positions == b.positions
    np.testing.assert_array_equal(da.policy, db.policy)


def test_resign_disabled_games_measure_false_resignations(settings):
    result = run_selfplay(
        _cfg(games=8, resign_threshold=-0.01, resign_consecutive=1, resign_disabled_fraction=0.5, seed=1),
        settings=settings,
    )
    # The uniform agent's root values hover around zero, so some games resign and some would have.
    assert result.resignations + result.resign_checks > 0
    assert 0 <= result.false_resignations <= result.resign_checks


@pytest.mark.parametrize(
    "bad",
    [
        dict(board_type="chess"),
        dict(num_players=3),
        dict(games=0),
        dict(temperature=-1),
        dict(shard_name="../x"),
        dict(bogus=1),
    ],
)
def test_bad_configs_are_refused_with_a_reason(bad):
    with pytest.raises((ValidationError, ValueError)):
        _cfg(**bad)


def test_three_player_selfplay_rotates_value_targets(settings):
    result = run_selfplay(
        SelfplayConfig(board_type="connect4", num_players=3, games=3, num_simulations=4, seed=0),
        settings=settings,
    )
    data = ShardStore(settings).load(ShardStore(settings).get("connect4_3p", result.shard_name))
    assert data.value.shape[1] == 3
    np.testing.assert_allclose(data.value.sum(axis=1), 0.0, atol=1e-6)


def test_playout_cap_records_only_the_full_searches(monkeypatch):
    game = make_game("connect4", 2)
    searched: dict[int, list[bytes]] = {5: [], 2: []}
    run = BatchedMCTS.run

    def spy(self, states, rng, *, add_noise):
        # Which positions each search saw, keyed by its budget; full searches alone carry root noise.
        assert add_noise == (self.config.num_simulations == 5)
        searched[self.config.num_simulations] += [game.encode(s).tobytes() for s in states]
        return run(self, states, rng, add_noise=add_noise)

    monkeypatch.setattr(BatchedMCTS, "run", spy)
    positions, records = play_games(
        game,
        uniform_evaluator(game.action_size, game.num_players),
        MCTSConfig(num_simulations=5),
        games=6,
        parallel_games=3,
        play=PlaySettings(full_search_fraction=0.25, cheap_simulations=2),
        rng=np.random.default_rng(0),
    )
    moves = sum(r.length for r in records)
    assert len(searched[5]) + len(searched[2]) == moves
    assert 0.1 * moves < len(searched[5]) < 0.4 * moves
    recorded = sorted(p.tobytes() for p in positions.planes)
    assert recorded == sorted(searched[5])
    # Full-search targets are 5-visit distributions, never the one-hot of a cheap search's two visits or fewer.
    assert np.allclose(positions.policy.sum(axis=1), 1.0)
    assert np.allclose((positions.policy * 5) % 1, 0, atol=1e-5)
    # Value targets stay the result seen by each recorded mover.
    assert np.abs(positions.value).max() == 1.0


def test_playout_cap_and_solver_settings_are_checked():
    with pytest.raises(ValueError, match="cheap_simulations"):
        _cfg(full_search_fraction=0.5, cheap_simulations=8)
    with pytest.raises(ValueError, match="two-player"):
        SelfplayConfig(board_type="connect4", num_players=3, solver=True)
    assert _cfg(full_search_fraction=0.5, cheap_simulations=2, solver=True).solver


def test_selfplay_with_playout_cap_and_solver_writes_a_shard(settings):
    result = run_selfplay(_cfg(full_search_fraction=0.5, cheap_simulations=2, solver=True), settings=settings)
    assert result.games == 6
    assert 0 < result.positions < 6 * result.mean_length


def test_a_run_in_parts_writes_a_shard_every_shard_games_games(settings):
    result = run_selfplay(_cfg(games=7, shard_games=3, shard_name="run"), settings=settings)
    assert result.shards == ["run-000", "run-001", "run-002"] and result.shard_name == "run"
    store = ShardStore(settings)
    parts = [store.load(store.get("hex5_2p", n)) for n in result.shards]
    assert [len(np.unique(p.game_id)) for p in parts] == [3, 3, 1]
    assert sum(p.positions for p in parts) == result.positions and result.games == 7
    assert (
        not result.reused
        and run_selfplay(_cfg(games=7, shard_games=3, shard_name="run"), settings=settings).reused
    )


def test_a_run_killed_after_some_shards_resumes_after_them(settings, monkeypatch):
    """A crash after the second shard: the rerun plays only the third, and the data equals an unbroken run's."""
    import app.selfplay.stage as stage

    real, written = stage.ShardStore.write, []

    def crash_after_two(self, config_key, name, data, model_id=None):
        if len(written) == 2:
            raise KeyboardInterrupt("killed")
        written.append(name)
        return real(self, config_key, name, data, model_id=model_id)

    monkeypatch.setattr(stage.ShardStore, "write", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        run_selfplay(_cfg(games=7, shard_games=3, shard_name="run"), settings=settings)
    monkeypatch.setattr(stage.ShardStore, "write", real)
    played = []
    monkeypatch.setattr(stage, "play_games", lambda *a, **k: played.append(k["games"]) or _play(*a, **k))
    resumed = run_selfplay(_cfg(games=7, shard_games=3, shard_name="run"), settings=settings)
    assert written == ["run-000", "run-001"] and played == [1]
    assert resumed.games == 7 and resumed.shards == ["run-000", "run-001", "run-002"]
    unbroken = run_selfplay(_cfg(games=7, shard_games=3, shard_name="other"), settings=settings)
    store = ShardStore(settings)
    for a, b in zip(resumed.shards, unbroken.shards, strict=True):
        np.testing.assert_array_equal(
            store.load(store.get("hex5_2p", a)).policy, store.load(store.get("hex5_2p", b)).policy
        )


_play = play_games


def test_a_run_switches_to_its_successor_between_shards_once_it_is_registered(settings, monkeypatch):
    """The successor is registered while the first shard is written (the candidate finishing its training beside
    this selfplay): the later shards play it, and each shard, its records and the result say who played."""
    import app.selfplay.stage as stage
    from app.storage.db import session_scope
    from app.storage.models.selfplay import SelfplayGameRow

    register_tiny_model(settings, "hex5_2p_v1")
    real = stage.ShardStore.write

    def register_after_first(self, config_key, name, data, model_id=None):
        record = real(self, config_key, name, data, model_id=model_id)
        if name.endswith("-000"):
            register_tiny_model(settings, "hex5_2p_v2")
        return record

    monkeypatch.setattr(stage.ShardStore, "write", register_after_first)
    cfg = _cfg(games=6, shard_games=2, shard_name="run", model_id="hex5_2p_v1", successor="hex5_2p_v2")
    result = run_selfplay(cfg, settings=settings)
    assert result.shard_models == ["hex5_2p_v1", "hex5_2p_v2", "hex5_2p_v2"]
    assert result.model_id == "hex5_2p_v1" and result.games == 6
    store = ShardStore(settings)
    assert [store.get("hex5_2p", n).model_id for n in result.shards] == result.shard_models
    with session_scope(settings) as s:
        played = {(r.shard_name, r.model_id) for r in s.query(SelfplayGameRow).all()}
    assert played == set(zip(result.shards, result.shard_models, strict=True))
    monkeypatch.setattr(stage.ShardStore, "write", real)
    again = run_selfplay(cfg, settings=settings)  # a rerun replays nothing and reads the models back
    assert again.reused and again.shard_models == result.shard_models


def test_a_successor_never_registered_leaves_one_model_throughout(settings):
    register_tiny_model(settings, "hex5_2p_v1")
    cfg = _cfg(games=4, shard_games=2, shard_name="run", model_id="hex5_2p_v1", successor="hex5_2p_v2")
    assert run_selfplay(cfg, settings=settings).shard_models == ["hex5_2p_v1", "hex5_2p_v1"]


def test_a_following_run_plays_the_newest_trained_model_above_its_version_before_each_shard(
    settings, monkeypatch
):
    """A long-running job (``follow``): v2 is registered while shard 0 is written, v3 while shard 1 is; v1 is older
    than the rule's version and never played, a model still without checkpoint is never picked."""
    import app.selfplay.stage as stage
    from app.registry import ModelLifecycle

    register_tiny_model(settings, "hex5_2p_v1")
    ModelLifecycle(settings).register_model("hex5_2p_v4", "TRAINING")  # still training: no checkpoint
    real = stage.ShardStore.write
    registered = {"-000": "hex5_2p_v2", "-001": "hex5_2p_v3"}

    def register_while_playing(self, config_key, name, data, model_id=None):
        record = real(self, config_key, name, data, model_id=model_id)
        if name[-4:] in registered:
            register_tiny_model(settings, registered[name[-4:]])
        return record

    monkeypatch.setattr(stage.ShardStore, "write", register_while_playing)
    follow = {"model": "latest", "after_version": 1}
    cfg = _cfg(games=8, shard_games=2, shard_name="fleet", model_id="uniform", follow=follow)
    result = run_selfplay(cfg, settings=settings)
    assert result.shard_models == ["uniform", "hex5_2p_v2", "hex5_2p_v3", "hex5_2p_v3"]


def test_a_run_following_production_plays_the_production_model_of_its_run(settings):
    from app.registry import ModelLifecycle

    register_tiny_model(settings, "hex5_2p_v1")
    register_tiny_model(settings, "hex5_2p_v2")
    ModelLifecycle(settings).promote_to_production("hex5_2p_v1", reason="test")
    cfg = _cfg(games=2, shard_games=1, shard_name="fleet", model_id="uniform", follow={"model": "production"})
    assert run_selfplay(cfg, settings=settings).shard_models == ["hex5_2p_v1", "hex5_2p_v1"]
    other_run = _cfg(games=2, shard_games=1, shard_name="wide", follow={"model": "production", "run": "wide"})
    assert run_selfplay(
        other_run.model_copy(update={"model_id": "hex5_2p_v2"}), settings=settings
    ).shard_models == [
        "hex5_2p_v2",
        "hex5_2p_v2",
    ]  # no production in run "wide": the model it started with


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"model_id": "hex5_2p_v1", "successor": "hex5_2p_v1"}, "other than the one the job starts with"),
        ({"successor": "hex5_2p_v2", "follow": {"model": "latest"}}, "follow or successor, not both"),
        ({"follow": {"model": "newest"}}, "'latest' or 'production'"),
        ({"successor": "uniform"}, "not 'uniform'"),
        ({"successor": "hex6_2p_v3"}, "successor 'hex6_2p_v3' is not a model of hex5_2p"),
    ],
)
def test_a_successor_must_be_another_model_of_the_key(update, message):
    with pytest.raises(ValidationError, match=message):
        _cfg(**update)


def _peaked_evaluator(game):
    """A network sure of one move (the lowest legal index) and of nothing else: its Gumbel selfplay repeats."""

    def evaluate(planes, legal):
        legal = np.asarray(legal, dtype=bool)
        priors = np.where(legal, 1e-7, 0.0)
        priors[np.arange(len(legal)), legal.argmax(axis=1)] = 1.0
        priors /= priors.sum(axis=1, keepdims=True)
        return priors.astype(np.float32), np.zeros((len(legal), game.num_players), np.float32)

    return evaluate


def test_random_opening_moves_make_a_sure_networks_games_differ_and_are_not_recorded():
    game = make_game("hex5", 2)

    def play(opening_moves):
        return play_games(
            game,
            _peaked_evaluator(game),
            MCTSConfig(num_simulations=8, gumbel=True),
            games=8,
            parallel_games=4,
            play=PlaySettings(opening_moves=opening_moves),
            rng=np.random.default_rng(5),
        )

    _, same = play(0)
    assert len({tuple(r.moves) for r in same}) == 1  # every game the same line

    positions, records = play(3)
    assert len({tuple(r.moves[:3]) for r in records}) >= 6
    assert len({tuple(r.moves) for r in records}) == len(records)
    for r in records:
        rows = np.flatnonzero(positions.game_id == r.index)
        assert len(rows) == r.length - 3  # the random moves have no search, so no training position
        state = game.initial_state()
        for move in r.moves[:3]:
            state = game.apply(state, move)
        np.testing.assert_array_equal(positions.planes[rows[0]], game.encode(state))
        for move in r.moves[3:]:
            state = game.apply(state, move)
        assert game.is_terminal(state) and list(game.returns(state)) == r.returns
