"""A network as an ONNX file, for ONNX Runtime or any other ONNX consumer.

The graph takes ``planes`` float32 [B, C, H, W] (B free) and gives ``policy_logits`` float32 [B, A] and
``values`` float32 [B, P]; ``metadata`` becomes the model's ``metadata_props`` (string keys and values).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from app.nn.model import PolicyValueNet

OPSET = 17
INPUT, OUTPUTS = "planes", ("policy_logits", "values")


def export_onnx(net: PolicyValueNet, path: str | Path, *, metadata: dict[str, str] | None = None) -> Path:
    """Write ``net`` (in eval mode) to ``path`` as ONNX with ``metadata``; returns the path."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = net.eval()
    example = torch.zeros((2, net.num_planes, *net.board_shape), dtype=torch.float32)
    tmp = path.with_name(path.name + ".tmp")
    batch = {0: "batch"}
    # The TorchScript-based exporter: the network is a plain conv net, and the newer exporter needs onnxscript,
    # which this project does not otherwise depend on. Its deprecation notice says nothing about this model.
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            net, (example,), str(tmp), input_names=[INPUT], output_names=list(OUTPUTS),
            dynamic_axes={INPUT: batch, OUTPUTS[0]: batch, OUTPUTS[1]: batch}, opset_version=OPSET, dynamo=False,
        )  # fmt: skip
    model = onnx.load(str(tmp))
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            tmp.unlink(missing_ok=True)
            raise TypeError(f"ONNX metadata is text: {key!r} = {value!r} is not a str pair")
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return path
