"""Losses and metrics of a batch: policy cross-entropy against the search's visit distribution, value MSE."""

from __future__ import annotations

import torch
from torch.nn import functional as F

METRICS = ("policy_loss", "value_loss", "loss", "policy_accuracy", "value_mse")


def losses(
    logits: torch.Tensor,
    values: torch.Tensor,
    target_policy: torch.Tensor,
    target_value: torch.Tensor,
    *,
    value_loss_weight: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """logits [B, A], values [B, P], target_policy [B, A] (rows sum to 1), target_value [B, P].

    Returns (loss to minimise, per-batch sums of each metric as detached float64 scalars, to be divided by the
    number of samples): ``value_loss`` sums the squared error over the players, ``value_mse`` averages it.
    """
    logits, values = logits.float(), values.float()
    policy_ce = -(target_policy * F.log_softmax(logits, dim=-1)).sum(dim=-1)
    sq = (values - target_value).square()
    value_per_sample = sq.sum(dim=-1)
    loss = policy_ce.mean() + value_loss_weight * value_per_sample.mean()
    with torch.no_grad():
        correct = (logits.argmax(dim=-1) == target_policy.argmax(dim=-1)).double()
        sums = {
            "policy_loss": policy_ce.double().sum(),
            "value_loss": value_per_sample.double().sum(),
            "loss": (policy_ce + value_loss_weight * value_per_sample).double().sum(),
            "policy_accuracy": correct.sum(),
            "value_mse": sq.double().mean(dim=-1).sum(),
        }
    return loss, sums


class MetricSums:
    """Running sums of the batch metrics over an epoch (saved in the training state to resume mid-epoch)."""

    def __init__(self, sums: dict[str, float] | None = None, count: int = 0):
        self.sums = dict.fromkeys(METRICS, 0.0) | (sums or {})
        self.count = count

    def add(self, batch_sums: dict[str, torch.Tensor], n: int) -> None:
        for k, v in batch_sums.items():
            self.sums[k] += float(v)
        self.count += n

    def mean(self, metric: str) -> float:
        """The running mean of one metric of ``METRICS`` (0 before any sample)."""
        return self.sums[metric] / max(1, self.count)

    def means(self, prefix: str) -> dict[str, float]:
        """The means under their grouped names, ``{prefix}/{metric}`` (``train/loss``, ``val/policy_accuracy``)."""
        if self.count == 0:
            return {}
        return {f"{prefix}/{k}": v / self.count for k, v in self.sums.items()}
