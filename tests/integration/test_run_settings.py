"""Run settings without the CLI: precedence, refusals that name key, value and range, and the next cycle's view."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import InvalidConfig
from app.integration.feedback_types import Action, ChangeKind, Priority, Recommendation
from app.integration.pipeline_config import CycleSettings, PipelineConfig
from app.integration.pipeline_state import Cycle, PipelineState
from app.integration.run_settings import (
    FIELDS,
    allowed,
    for_next_cycle,
    parse_pairs,
    resolve,
    resolve_for_run,
)

KEY = "hex5_2p"


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(config_key: str = KEY, file: Path | None = None, pairs: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(InvalidConfig) as info:
        resolve(config_key, file, pairs)
    return str(info.value).splitlines()


def test_keys_and_ranges_come_from_the_models():
    fixed = [k for k in PipelineConfig.model_fields if k != "cycle"]
    assert list(FIELDS) == fixed + [f"cycle.{k}" for k in CycleSettings.model_fields]
    integers = CycleSettings.integer_parameters()
    for name, bounds in CycleSettings.bounds().items():
        low, high = (str(int(b)) if name in integers else f"{b:g}" for b in bounds)
        assert f"[{low}, {high}]" in allowed(f"cycle.{name}")
    assert "in (0, 1]" in allowed("full_search_fraction") and "or null" in allowed("sample_reuse")


def test_precedence_default_then_per_game_then_file_then_flag(tmp_path):
    path = _toml(tmp_path, 'solver = true\nanchors = ["random"]\n[cycle]\nselfplay_games = 64\nepochs = 5\n')
    resolved = resolve("connect4_3p", path, ["cycle.epochs=7", "gate_elo1=25.5"])
    c, sources = resolved.config, resolved.sources
    assert (c.cycle.learning_rate, sources["cycle.learning_rate"]) == (3e-3, "default")
    assert (c.cycle.num_simulations, sources["cycle.num_simulations"]) == (24, "per-game default")
    assert (c.cycle.selfplay_games, sources["cycle.selfplay_games"]) == (64, f"file {path}")
    assert (c.solver, c.anchors, sources["anchors"]) == (True, ["random"], f"file {path}")
    assert (c.cycle.epochs, sources["cycle.epochs"]) == (7, "flag")
    assert (c.gate_elo1, sources["gate_elo1"]) == (25.5, "flag")
    assert resolved.given() == {
        "solver": True, "anchors": ["random"], "gate_elo1": 25.5, "cycle.selfplay_games": 64, "cycle.epochs": 7
    }  # fmt: skip
    plain = resolve(KEY)
    assert plain.config == PipelineConfig(
        mode="continuous",
        sample_reuse=8.0,
        gumbel=True,
        feedback_rules_off=["loss_plateau"],
        selfplay_jobs=0,
        cycle=CycleSettings(num_simulations=16, learning_rate=6e-3),
    )
    per_game = {
        "mode", "sample_reuse", "gumbel", "feedback_rules_off", "selfplay_jobs", "cycle.num_simulations",
        "cycle.learning_rate",
    }  # fmt: skip
    assert {k for k, v in plain.sources.items() if v != "default"} == per_game
    assert {plain.sources[k] for k in per_game} == {"per-game default"}


def test_values_parse_as_json_else_text():
    assert parse_pairs(["solver=true", "x=0.25", 'a=["random"]', "net=gpu", "s=null"]) == {
        "solver": True, "x": 0.25, "a": ["random"], "net": "gpu", "s": None
    }  # fmt: skip
    assert resolve(KEY, pairs=["net=gpu", "sample_reuse=null"]).config.net == "gpu"


def test_an_unknown_key_names_it_and_the_close_ones():
    first, hint = _refusal(pairs=("cycle.num_simulation=64",))
    assert first == "unknown setting 'cycle.num_simulation' (--set)"
    assert hint.startswith("did you mean cycle.num_simulations")
    first, hint = _refusal(pairs=("zzz=1",))
    assert "'zzz'" in first and hint.startswith("valid keys: net, ") and "cycle.replay_window" in hint
    first, hint = _refusal(pairs=("cycle=3",))
    assert "group of settings" in first and "cycle.epochs" in hint


def test_out_of_range_and_mistyped_values_name_key_value_and_range():
    first, valid = _refusal(pairs=("cycle.num_simulations=0",))
    assert first.startswith("cycle.num_simulations=0 (--set) is refused: input should be greater than")
    assert valid.startswith("cycle.num_simulations is an integer in [2, 1600]")
    first, valid = _refusal(pairs=("seed=true",))
    assert first.startswith("seed=true (--set) is refused") and valid.startswith("seed is an integer >= 0")
    first, valid = _refusal(pairs=("gumbel=1",))
    assert first.startswith("gumbel=1 (--set)") and valid.startswith("gumbel is true or false")
    first, valid = _refusal(pairs=("anchors=random",))
    assert first.startswith('anchors="random" (--set)') and '["random"]' in valid
    first, valid = _refusal(pairs=("train_from=parent",))
    assert first.startswith('train_from="parent"') and '"latest", "production"' in valid
    assert _refusal(pairs=("num_simulations",))[0] == "--set wants KEY=VALUE, got 'num_simulations'"
    assert "given twice" in _refusal(pairs=("seed=1", "seed=2"))[0]


def test_file_refusals_name_the_file(tmp_path):
    path = _toml(tmp_path, "[cycle]\nlearning_rate = 0.5\n")
    first, valid = _refusal(file=path)
    assert first == f"cycle.learning_rate=0.5 ({path}) is refused: input should be less than or equal to 0.05"
    assert valid.startswith("cycle.learning_rate is a number in [1e-05, 0.05]")
    first, hint = _refusal(file=_toml(tmp_path, "[cycl]\nepochs = 2\n"))
    assert "'cycl.epochs'" in first and "cycle.epochs" in hint
    first, hint = _refusal(file=_toml(tmp_path, "solver = yes\n"))
    assert first.startswith(f"--config {path} is not valid TOML:") and "[cycle]" in hint
    assert _refusal(file=tmp_path / "missing.toml")[0].endswith("missing.toml: no such file")
    with pytest.raises(InvalidConfig, match="hex99"):
        resolve("hex99_2p")


def seed_cycles(settings, *, last_status: str = "done") -> None:
    state = PipelineState(settings, KEY)
    first = CycleSettings(selfplay_games=8, num_simulations=4, epochs=1, batch_size=32, replay_window=5_000)
    state.create_cycle(
        1, settings=first.model_dump(), changes=[], candidate_model_id=f"{KEY}_v1", opponent="x"
    )
    state.finish_cycle(1, status="done")
    change = {"identity": "abc", "action": "INCREASE_SEARCH", "rule": "search_depth", "reason": "r",
              "changes": {"num_simulations": [4, 8]}}  # fmt: skip
    second = first.model_copy(update={"num_simulations": 8})
    state.create_cycle(
        2, settings=second.model_dump(), changes=[change], candidate_model_id=f"{KEY}_v2", opponent="y"
    )
    state.finish_cycle(2, status=last_status)


def test_the_next_cycle_continues_from_the_stored_ones_with_feedback_marked(settings):
    seed_cycles(settings)
    resolved = resolve_for_run(KEY, settings=settings, pairs=["cycle.num_simulations=64", "cycle.epochs=1"])
    assert (resolved.cycle, resolved.stored_cycles) == (3, 2)
    rows = {key: (value, source) for key, value, source in resolved.rows()}
    assert rows["cycle.num_simulations"] == (64, "flag")  # given now: the next cycle takes it
    assert rows["cycle.selfplay_games"] == (8, "stored (cycle 1)")
    assert rows["cycle.epochs"] == (1, "flag")
    assert rows["cycle.learning_rate"] == (3e-3, "stored (cycle 1)")  # the stored cycles keep theirs
    assert resolved.notes == ()
    assert resolved.cycle_overrides() == {"num_simulations": (64, "flag"), "epochs": (1, "flag")}
    plain = {key: (v, source) for key, v, source in resolve_for_run(KEY, settings=settings).rows()}
    assert plain["cycle.num_simulations"] == (8, "feedback (cycle 2: search_depth)")


def test_an_unfinished_cycle_is_the_next_and_keeps_its_settings(settings):
    seed_cycles(settings, last_status="failed")
    resolved = resolve_for_run(KEY, settings=settings)
    assert resolved.cycle == 2 and resolved.config.cycle.num_simulations == 8
    waiting = resolve_for_run(KEY, settings=settings, pairs=["cycle.num_simulations=64"])
    assert waiting.config.cycle.num_simulations == 8
    assert waiting.cycle_overrides() == {"num_simulations": (64, "flag")}  # for the pipeline's cycle 3
    [note] = waiting.notes
    assert note == (
        "cycle.num_simulations=64 (--set) applies from cycle 3: cycle 2 is unfinished and keeps its 8"
    )


def test_a_stored_set_change_shows_as_its_source_and_cycle(settings):
    seed_cycles(settings)
    state = PipelineState(settings, KEY)
    change = {"identity": None, "action": "set", "rule": "file run.toml", "reason": "r",
              "changes": {"epochs": [1, 3]}}  # fmt: skip
    third = CycleSettings(**state.cycle(2).settings).model_copy(update={"epochs": 3})
    state.create_cycle(
        3, settings=third.model_dump(), changes=[change], candidate_model_id=f"{KEY}_v3", opponent="z"
    )
    state.finish_cycle(3, status="done")
    rows = {key: (v, source) for key, v, source in resolve_for_run(KEY, settings=settings).rows()}
    assert rows["cycle.epochs"] == (3, "file run.toml (cycle 3)")
    assert rows["cycle.num_simulations"] == (8, "feedback (cycle 2: search_depth)")


def test_pending_recommendations_show_as_the_next_cycles_feedback():
    cycle = Cycle(KEY, 1, "done", CycleSettings().model_dump(), [], f"{KEY}_v1", "x", {}, None)
    rec = Recommendation(
        Action.INCREASE_SELFPLAY, KEY, {"selfplay_games": 2.0}, ChangeKind.MULTIPLY, "too few games",
        Priority.MEDIUM, "more_selfplay", (1,),
    )  # fmt: skip
    view = for_next_cycle(resolve(KEY), [cycle], [rec])
    assert view.config.cycle.selfplay_games == 320
    assert view.sources["cycle.selfplay_games"] == "feedback (cycle 2: more_selfplay, pending)"
    off = for_next_cycle(resolve(KEY, pairs=["feedback=false"]), [cycle], [rec])
    assert off.config.cycle.selfplay_games == 160 and off.sources["cycle.selfplay_games"] == "default"
