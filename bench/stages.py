"""Throughput of the three stages on hex8_2p with the default CPU network, and the games the gate saves.

    python bench/stages.py [--games 64 --simulations 32 --train-steps 300 --eval-games 32 --gate-runs 1000
                            --threads 1]

Everything runs through the stage functions, as a job would, in a throw-away data directory:
  selfplay    ``--games`` games at ``--simulations`` simulations with an untrained ``NetConfig.cpu()`` network
              registered as hex8_2p_v0, then the same with uniform priors (generation 0, no network):
              games/s and positions/s as ``SelfplayResult`` reports them (playing only; the shard write is not
              timed);
  training    about ``--train-steps`` steps from scratch (``cpu`` preset) on the shard the network wrote:
              samples/s as ``TrainResult`` reports it (optimiser steps, augmentation and validation included);
  evaluation  gate games of the network (``--simulations``) against random, and of rollout_mcts_50 against
              random: games/s of ``run_evaluation`` (no anchors, no calibration). The gate's error rates are set
              tiny so that it plays all ``--eval-games`` games rather than stopping at a decision;
  gate        reading A of ``bench/gate.py`` (through its functions): the average games the GSPRT needs at
              ±30 Elo with the error rates of a fixed 400-game match; and reading B: with alpha = beta = 0.05,
              against the smallest fixed match that reaches them.

Torch runs on ``--threads`` CPU threads (``ZEROLOOP_TORCH_THREADS``, read by every evaluator, and the training
config): one by default, since two threads on a busy two-core machine were measured 2-3x slower than one.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/gate.py, run as a script or imported

CONFIG_KEY = "hex8_2p"
BOARD, PLAYERS = "hex8", 2
MODEL_ID = "hex8_2p_v0"


def _register_untrained_network(settings) -> None:
    """An untrained ``NetConfig.cpu()`` network as a registered model: what a model's selfplay and arena cost."""
    import torch

    from app.games.registry import make_game
    from app.integration import ModelLifecycle
    from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint

    torch.manual_seed(0)
    net = PolicyValueNet.for_game(make_game(BOARD, PLAYERS), NetConfig.cpu())
    path = settings.path("models", CONFIG_KEY, f"{MODEL_ID}.safetensors")
    meta = save_checkpoint(path, net, Lineage(config_key=CONFIG_KEY, model_id=MODEL_ID))
    ModelLifecycle(settings).register_model(MODEL_ID, "STAGING", artifact_path=str(path), sha256=meta.sha256)


def bench_selfplay(settings, *, model_id: str, games: int, simulations: int, seed: int):
    from app.selfplay import SelfplayConfig, run_selfplay

    cfg = SelfplayConfig(
        board_type=BOARD,
        num_players=PLAYERS,
        games=games,
        model_id=model_id,
        num_simulations=simulations,
        parallel_games=games,
        seed=seed,
        shard_name=f"bench_{model_id}",
    )
    r = run_selfplay(cfg, settings=settings)
    print(
        f"selfplay  {model_id:<16} {r.games} games x {simulations} sims: {r.games_per_s:7.2f} games/s "
        f"{r.positions_per_s:8.1f} positions/s  ({r.positions} positions, mean length {r.mean_length:.1f}, "
        f"{r.seconds:.1f} s)",
        flush=True,
    )
    return r


def bench_training(settings, *, positions: int, steps: int, batch_size: int, threads: int, seed: int):
    from app.training import TrainConfig, run_training

    # Steps = epochs x train positions / batch; the training split is about 90% of the window (by game).
    epochs = max(1, round(steps * batch_size / (0.9 * positions)))
    cfg = TrainConfig(
        board_type=BOARD,
        num_players=PLAYERS,
        epochs=epochs,
        batch_size=batch_size,
        net="cpu",
        init="scratch",
        output_model_id="hex8_2p_v1",
        num_threads=threads,
        seed=seed,
    )
    r = run_training(cfg, settings=settings)
    print(
        f"training  {r.steps} steps x batch {batch_size} ({r.epochs} epochs over {r.train_positions} positions): "
        f"{r.samples_per_s:7.0f} samples/s on {r.device}  ({r.seconds:.1f} s, "
        f"val loss {r.final.get('val/loss', math.nan):.3f})",
        flush=True,
    )
    return r


def bench_evaluation(settings, *, candidate: str, games: int, simulations: int, seed: int):
    from app.evaluation import EvalConfig, run_evaluation

    cfg = EvalConfig(
        board_type=BOARD,
        num_players=PLAYERS,
        candidate=candidate,
        opponent="random",
        max_games=games,
        alpha=1e-6,
        beta=1e-6,
        num_simulations=simulations,
        batch_games=games,
        anchors=[],
        anchors_games=0,
        calibration_games=0,
        seed=seed,
    )
    r = run_evaluation(cfg, settings=settings)
    who = f"{candidate} ({simulations} sims)" if candidate == MODEL_ID else candidate
    print(
        f"eval      {who + ' vs random':<38} {r.games} games: {r.games_per_s:6.2f} games/s  "
        f"(score {r.score:.3f}, {r.seconds:.1f} s)",
        flush=True,
    )
    return r


def bench_gate(*, runs: int, seed: int) -> None:
    import gate

    from app.evaluation.simulate import pentanomial_probs, simulate_gsprt

    model = {"draw_ratio": 0.0, "opening_bias": 0.1}  # gate.py's defaults: Hex-like, no draws
    rng = np.random.default_rng(seed)

    def mean_games(alpha: float, beta: float) -> float:
        means = [
            simulate_gsprt(
                pentanomial_probs(truth, **model),
                elo0=gate.ELO0,
                elo1=gate.ELO1,
                alpha=alpha,
                beta=beta,
                max_games=10**7,
                runs=runs,
                rng=rng,
            ).mean_games
            for truth in gate.TRUTHS
        ]
        return float(np.mean(means))

    alpha, beta = gate.fixed_match_errors(gate.FIXED_GAMES // 2, **model)
    a = mean_games(alpha, beta)
    print(
        f"gate A    fixed {gate.FIXED_GAMES}-game match has alpha={alpha:.3f} beta={beta:.3f}; the GSPRT with "
        f"the same needs {a:.1f} games on average at ±30 Elo: {gate.FIXED_GAMES / a:.2f}x fewer",
        flush=True,
    )
    fixed_n = gate.fixed_games_for(0.05, 0.05, **model)
    b = mean_games(0.05, 0.05)
    print(
        f"gate B    alpha=beta=0.05: fixed match {fixed_n} games, GSPRT {b:.1f} on average at ±30 Elo: "
        f"{fixed_n / b:.2f}x fewer  ({runs} simulated tests per truth; bench/gate.py has the full report)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--games", type=int, default=64, help="selfplay games (all played in parallel)")
    parser.add_argument(
        "--simulations", type=int, default=32, help="MCTS simulations per move of the network"
    )
    parser.add_argument("--train-steps", type=int, default=300, help="about this many optimiser steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--eval-games", type=int, default=32, help="gate games per evaluation")
    parser.add_argument("--gate-runs", type=int, default=1000, help="simulated GSPRTs per truth")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zeroloop-bench-") as home:
        # Before the settings are first read, so that nothing of this run lands in the user's data directory.
        os.environ["ZEROLOOP_HOME"] = home
        os.environ.pop("ZEROLOOP_DATABASE_URL", None)
        os.environ["ZEROLOOP_TORCH_THREADS"] = str(args.threads)
        import torch

        torch.set_num_threads(args.threads)
        from app.core.config import Settings, reset_settings
        from app.storage.db import dispose_engines

        reset_settings()
        settings = Settings(home=Path(home))
        print(
            f"{CONFIG_KEY}, network NetConfig.cpu() (untrained), torch {torch.__version__} with "
            f"{torch.get_num_threads()} threads, {os.cpu_count()} cores; data in {home}",
            flush=True,
        )
        try:
            _register_untrained_network(settings)
            played = bench_selfplay(
                settings, model_id=MODEL_ID, games=args.games, simulations=args.simulations, seed=args.seed
            )
            # Trained while the network's shard is the only one: the window is exactly the shard just written.
            bench_training(
                settings,
                positions=played.positions,
                steps=args.train_steps,
                batch_size=args.batch_size,
                threads=args.threads,
                seed=args.seed,
            )
            bench_selfplay(
                settings, model_id="uniform", games=args.games, simulations=args.simulations, seed=args.seed
            )
            for candidate in (MODEL_ID, "rollout_mcts_50"):
                bench_evaluation(
                    settings,
                    candidate=candidate,
                    games=args.eval_games,
                    simulations=args.simulations,
                    seed=args.seed,
                )
        finally:
            dispose_engines()
    bench_gate(runs=args.gate_runs, seed=args.seed)
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
