"""Where a model's losses in bench/loop.py's fixed match lie: per opening, did it win both colours, one or none?

    python bench/match_pairs.py --home DIR --model hex6_2p_v90 [--anchor rollout_mcts_10000] [--games 100]
                                [--simulations 100]

Plays the same match ``bench/loop.py`` checks with (the same seed, openings and colours) and prints how many
openings the model won with both colours, with one and with none, and how often the side that moves first after
the opening won. An opening lost with both colours is a mistake of the model's; one lost with one colour only may
be a position its side cannot hold against this anchor.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from loop import MATCH_SEED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home", type=Path, required=True, help="The data directory the model is registered in."
    )
    parser.add_argument("--model", required=True, help="The model id, e.g. hex6_2p_v90.")
    parser.add_argument("--anchor", default="rollout_mcts_10000")
    parser.add_argument("--games", type=int, default=100, help="Games of the match (two per opening).")
    parser.add_argument("--simulations", type=int, default=100, help="The model's simulations a move.")
    args = parser.parse_args()

    import numpy as np

    from app.core.config import Settings
    from app.core.names import parse_model_id
    from app.evaluation.arena import play_rotated
    from app.evaluation.players import make_agent
    from app.games.base import random_openings
    from app.games.registry import game_for_key

    settings = Settings(home=args.home)
    game = game_for_key(parse_model_id(args.model).config_key)
    rng = np.random.default_rng(MATCH_SEED)
    lineup = [
        make_agent(args.model, game, settings, num_simulations=args.simulations),
        make_agent(args.anchor, game, settings, num_simulations=0),
    ]
    openings = random_openings(game, max(1, args.games // 2), num_moves=2, rng=rng)
    won_per_opening, first_mover_won, games = Counter(), 0, 0
    for group in play_rotated(game, lineup, openings, rng=rng):
        won = 0
        for g in group:
            best, worst = max(g.returns), min(g.returns)
            won += int(best != worst and g.returns[g.players.index(args.model)] == best)
            first_mover_won += int(best != worst and g.returns[0] == best)
            games += 1
        won_per_opening[won] += 1
    print(
        f"{args.model} vs {args.anchor}: openings won with both colours {won_per_opening[2]}, with one "
        f"{won_per_opening[1]}, with none {won_per_opening[0]}; games won {sum(k * v for k, v in won_per_opening.items())} "
        f"of {games}; the side that moves first after the opening won {first_mover_won}"
    )


if __name__ == "__main__":
    main()
