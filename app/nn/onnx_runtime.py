"""A network's forward pass through ONNX Runtime, for CPU inference.

The network is exported with ``app.nn.export.export_onnx`` and run by one ``InferenceSession`` with as many
intra-op threads as torch uses (one by default, see ``configure_threads``), so the two runtimes compare like for
like. PyTorch stays the runtime for training and for CUDA.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from app.nn.export import INPUT, export_onnx
from app.nn.model import PolicyValueNet

Forward = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def onnx_forward(net: PolicyValueNet, *, num_threads: int | None = None) -> Forward:
    """planes float32 [B, C, H, W] (a CPU tensor) -> (policy logits float32 [B, A], values float32 [B, P])."""
    import onnxruntime as ort  # lazy: start-up time of processes that never evaluate a network

    with tempfile.TemporaryDirectory(prefix="zl-onnx-") as tmp:
        model_bytes = export_onnx(net, Path(tmp) / "net.onnx").read_bytes()
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

    def forward(planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, values = session.run(None, {INPUT: planes.numpy()})
        return torch.from_numpy(logits), torch.from_numpy(values)

    return forward
