"""The policy/value network, the evaluator search calls, and checkpoints."""

from app.nn.checkpoint import CheckpointMeta, Lineage, load_checkpoint, read_checkpoint_meta, save_checkpoint
from app.nn.config import NetConfig
from app.nn.evaluator import (
    EvaluateFn,
    NetworkEvaluator,
    configure_threads,
    default_device,
    uniform_evaluator,
)
from app.nn.model import PolicyValueNet

__all__ = [
    "CheckpointMeta",
    "EvaluateFn",
    "Lineage",
    "NetConfig",
    "NetworkEvaluator",
    "PolicyValueNet",
    "configure_threads",
    "default_device",
    "load_checkpoint",
    "read_checkpoint_meta",
    "save_checkpoint",
    "uniform_evaluator",
]
