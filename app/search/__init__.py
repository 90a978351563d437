"""Batched MCTS (PUCT and Gumbel root) over many games at once, and the agents built on it."""

from app.search.agents import NetworkAgent, RandomAgent, RolloutMCTSAgent
from app.search.config import MCTSConfig
from app.search.leaves import LeafEvaluator, NetworkLeaves, RolloutLeaves, rotate_to_absolute
from app.search.sampling import select_action
from app.search.search import BatchedMCTS
from app.search.types import Agent, EvaluateFn, SearchOutput

__all__ = [
    "Agent",
    "BatchedMCTS",
    "EvaluateFn",
    "LeafEvaluator",
    "MCTSConfig",
    "NetworkAgent",
    "NetworkLeaves",
    "RandomAgent",
    "RolloutLeaves",
    "RolloutMCTSAgent",
    "SearchOutput",
    "rotate_to_absolute",
    "select_action",
]
