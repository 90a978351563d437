"""The selfplay stage: many games at once through the batched search, written as training shards."""

from app.selfplay.config import SelfplayConfig, SelfplayResult
from app.selfplay.stage import run_selfplay

__all__ = ["SelfplayConfig", "SelfplayResult", "run_selfplay"]
