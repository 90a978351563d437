"""The training stage: ``run_training(TrainConfig, settings=..., progress=...) -> TrainResult``."""

from app.training.config import TrainConfig, TrainResult
from app.training.run import run_training

__all__ = ["TrainConfig", "TrainResult", "run_training"]
