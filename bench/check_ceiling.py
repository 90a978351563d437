"""How high can bench/loop.py's check go? Which seat wins each of its openings, and where a model's losses come from.

    python bench/check_ceiling.py --home DIR --judges hex6_2p_v44,hex6_2p_v57 [--judge-simulations 800]
                                  [--model hex6_2p_v44] [--anchor rollout_mcts_10000] [--simulations 100]
                                  [--config hex6_2p] [--check-games 100]

Two strong players (the judges: models of the run in ``--home``, at ``--judge-simulations`` a move) play each
opening of the check twice, colours swapped. An opening is *decided* for a seat when that seat won both games,
whichever judge sat there; otherwise the judges disagree about it (*split*). Hex has no draws and every position is
won for one side, so where an opening is decided for the seat that moves first, the model of a check wins from the
other seat only when the anchor errs.

Then ``--model`` plays the check against ``--anchor`` at ``--simulations`` a move, exactly as bench/loop.py plays it
(same openings, same seeds), and its losses are split: those in openings decided against its seat (the anchor
converted a won position: a perfect player loses there too, as often as the anchor converts) and the others (its
own, or in an opening the judges split). Its score plus those others is about the ceiling of the check against
this anchor: what it would score losing only where the opening was decided against it. Two players only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loop import check_match, wilson_interval  # noqa: E402  (bench/loop.py: the check itself)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True, help="data directory of the run")
    parser.add_argument("--config", default="hex6_2p")
    parser.add_argument("--judges", required=True, help="two model ids, comma-separated")
    parser.add_argument("--judge-simulations", type=int, default=800)
    parser.add_argument("--model", help="model whose check is taken apart (default: the first judge)")
    parser.add_argument("--anchor", default="rollout_mcts_10000")
    parser.add_argument(
        "--simulations", type=int, default=100, help="the model's simulations, as in the check"
    )
    parser.add_argument("--check-games", type=int, default=100, help="games of the check (even)")
    args = parser.parse_args()
    judges = [j for j in args.judges.split(",") if j]
    if len(judges) != 2 or judges[0] == judges[1]:
        parser.error(f"--judges takes two different model ids, got {args.judges!r}")

    from app.core.config import Settings
    from app.games.registry import game_for_key

    settings, game = Settings(home=args.home), game_for_key(args.config)
    if game.num_players != 2:
        parser.error(f"{args.config} has {game.num_players} players; the ceiling is taken apart for two")
    started = time.perf_counter()
    decided = opening_verdicts(check_match(settings, game, judges, args.check_games, args.judge_simulations))
    counts = Counter(decided)
    print(
        f"{len(decided)} openings of the check on {args.config}, judged by {judges[0]} and {judges[1]} at "
        f"{args.judge_simulations} simulations ({time.perf_counter() - started:.0f}s): decided for the seat moving "
        f"first {counts[0]}, for the other {counts[1]}, split {counts[None]}"
    )
    model = args.model or judges[0]
    played = check_match(settings, game, [model, args.anchor], args.check_games, args.simulations)
    by_opening, own, score, games = losses_by_opening(played, decided)
    low, high = wilson_interval(score, games)
    print(
        f"{model} at {args.simulations} simulations against {args.anchor}: {score:.1%} [{low:.0%}, {high:.0%}] "
        f"over {games} games; lost {by_opening:g} where the opening was decided against its seat, "
        f"{own:g} elsewhere (its own, or where the judges split)"
    )
    print(f"ceiling of the check against {args.anchor}: about {score + own / games:.0%}")


def opening_verdicts(groups: list) -> list[int | None]:
    """Per opening: the seat that won both of its games, or None when the two games' winners sat apart."""
    verdicts: list[int | None] = []
    for group in groups:
        winners = {g.returns.index(max(g.returns)) for g in group}
        verdicts.append(winners.pop() if len(winners) == 1 else None)
    return verdicts


def losses_by_opening(groups: list, decided: list[int | None]) -> tuple[float, float, float, int]:
    """(points lost where the opening was decided against the seat of the lineup's first player, points it lost
    elsewhere, its mean score, games)."""
    against = own = total = 0.0
    games = 0
    for verdict, group in zip(decided, groups, strict=True):
        for g in group:
            lost = 1.0 - g.points()  # the model is lineup[0]
            if verdict is not None and verdict != g.seat_of(0):
                against += lost
            else:
                own += lost
            total += 1.0 - lost
            games += 1
    return against, own, total / max(1, games), games


if __name__ == "__main__":
    main()
