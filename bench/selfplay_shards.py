"""What writing a shard every few games costs selfplay (the price of resuming after a crash from the shards
already written): games per CPU-second with ``shard_games`` unset (one shard at the end) and at a few sizes.

    python bench/selfplay_shards.py [--board hex6 --games 160 --simulations 48 --parallel 64 --sizes 64,32
                                     --rounds 2]

An untrained ``NetConfig.cpu()`` network plays (``--uniform``: generation 0, no network), so smaller batches at the
end of each shard cost what they cost; rounds alternate the settings so that a busy machine affects each alike.
CPU seconds are this process's (one torch thread).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("ZEROLOOP_TORCH_THREADS", "1")


def _register_untrained(settings, board: str) -> str:
    import torch

    from app.games.registry import make_game
    from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint
    from app.registry import ModelLifecycle

    key, model_id = f"{board}_2p", f"{board}_2p_v0"
    torch.manual_seed(0)
    net = PolicyValueNet.for_game(make_game(board, 2), NetConfig.cpu())
    path = settings.path("models", key, f"{model_id}.safetensors")
    meta = save_checkpoint(path, net, Lineage(config_key=key, model_id=model_id))
    ModelLifecycle(settings).register_model(model_id, "STAGING", artifact_path=str(path), sha256=meta.sha256)
    return model_id


def run(
    board: str, games: int, simulations: int, parallel: int, shard_games: int | None, seed: int, uniform: bool
):
    from app.core.config import Settings
    from app.selfplay import SelfplayConfig, run_selfplay

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=home)
        model_id = "uniform" if uniform else _register_untrained(settings, board)
        cfg = SelfplayConfig(
            board_type=board, num_players=2, games=games, num_simulations=simulations, parallel_games=parallel,
            seed=seed, shard_games=shard_games, model_id=model_id,
        )  # fmt: skip
        started = time.process_time()
        run_selfplay(cfg, settings=settings)
        return games / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="hex6")
    parser.add_argument("--games", type=int, default=160)
    parser.add_argument("--simulations", type=int, default=48)
    parser.add_argument("--parallel", type=int, default=64)
    parser.add_argument("--sizes", default="64,32")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--uniform", action="store_true", help="Generation 0 plays (no network).")
    args = parser.parse_args()
    sizes: list[int | None] = [None] + [int(x) for x in args.sizes.split(",") if x]
    rates: dict[int | None, list[float]] = {s: [] for s in sizes}
    run(args.board, 8, 8, 8, None, 0, args.uniform)  # warm-up: numba compiles, the ONNX export runs once
    for r in range(args.rounds):
        for size in sizes:
            rates[size].append(
                run(args.board, args.games, args.simulations, args.parallel, size, r, args.uniform)
            )
    base = sum(rates[None]) / len(rates[None])
    for size in sizes:
        mean = sum(rates[size]) / len(rates[size])
        label = "one shard" if size is None else f"shard every {size} games"
        print(f"{label:>24}: {mean:6.2f} games per CPU-second ({mean / base:.2f}x)")


if __name__ == "__main__":
    main()
