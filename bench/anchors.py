"""The evaluation stage with its anchor games beside the gate's (``anchors_alongside``) against after them.

    python bench/anchors.py [--board hex6 --rounds 3 --gate-games 64 --anchors-games 8 --simulations 16]

Two untrained ``NetConfig.cpu()`` networks of the board (they cost what trained ones cost) are registered in a
throw-away data directory; the second is gated against the first at the loop's defaults (``--gate-games`` games,
its error rates tiny so that it plays them all, ``--simulations`` a move) and then rated against the default anchors
(``--anchors-games`` each; calibration between anchors is played once, before the timed rounds). Each round runs
both ways, alternating which goes first, and prints the evaluation's seconds; the end gives the mean of each and
the ratio. Both ways play the same games (tests/evaluation/test_stage.py checks it). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _register(settings, board: str, versions: int) -> list[str]:
    import torch

    from app.games.registry import make_game
    from app.integration import ModelLifecycle
    from app.nn import Lineage, NetConfig, PolicyValueNet, save_checkpoint

    key, ids = f"{board}_2p", []
    for version in range(versions):
        torch.manual_seed(version)
        net = PolicyValueNet.for_game(make_game(board, 2), NetConfig.cpu())
        model_id = f"{key}_v{version}"
        path = settings.path("models", key, f"{model_id}.safetensors")
        meta = save_checkpoint(path, net, Lineage(config_key=key, model_id=model_id))
        ModelLifecycle(settings).register_model(
            model_id, "STAGING", artifact_path=str(path), sha256=meta.sha256
        )
        ids.append(model_id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--board", default="hex6")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gate-games", type=int, default=64)
    parser.add_argument("--anchors-games", type=int, default=8)
    parser.add_argument("--simulations", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zl-anchors-") as tmp:
        import os

        os.environ["ZEROLOOP_HOME"] = str(Path(tmp))
        from app.core.config import get_settings
        from app.evaluation import EvalConfig, run_evaluation

        settings = get_settings()
        opponent, candidate = _register(settings, args.board, 2)

        def evaluate(alongside: bool, seed: int) -> float:
            cfg = EvalConfig(
                board_type=args.board, num_players=2, candidate=candidate, opponent=opponent,
                max_games=args.gate_games, alpha=1e-9, beta=1e-9, num_simulations=args.simulations,
                anchors_games=args.anchors_games, anchors_alongside=alongside, seed=seed,
            )  # fmt: skip
            start = time.perf_counter()
            run_evaluation(cfg, settings=settings)
            return time.perf_counter() - start

        evaluate(False, 0)  # warm-up: compiles the kernels, exports the networks, plays the calibration games
        times: dict[bool, list[float]] = {True: [], False: []}
        for r in range(args.rounds):
            for alongside in (True, False) if r % 2 == 0 else (False, True):
                times[alongside].append(evaluate(alongside, seed=r + 1))
                print(f"round {r + 1}: anchors {'beside' if alongside else 'after '} the gate "
                      f"{times[alongside][-1]:6.2f} s", flush=True)  # fmt: skip
        beside, after = statistics.mean(times[True]), statistics.mean(times[False])
        print(f"\n{args.board}: gate {args.gate_games} games + anchors {args.anchors_games} each at "
              f"{args.simulations} simulations")  # fmt: skip
        print(f"  anchors after the gate (baseline): {after:6.2f} s an evaluation")
        print(f"  anchors beside the gate:           {beside:6.2f} s an evaluation  ({after / beside:.2f}x)")


if __name__ == "__main__":
    main()
