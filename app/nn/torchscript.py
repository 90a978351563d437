"""A network as a TorchScript file that C++ (libtorch) or Python loads without this package.

``torch.jit.load(path, _extra_files={"zeroloop.json": ""})`` gives the module and the metadata written here.
"""

from __future__ import annotations

from pathlib import Path

import torch

from app.nn.model import PolicyValueNet

METADATA_FILE = "zeroloop.json"


def export_torchscript(net: PolicyValueNet, path: str | Path, *, metadata: str = "{}") -> Path:
    """Trace ``net`` in eval mode for batches of any size and save it with ``metadata`` (JSON text) inside.

    Tracing is enough: the forward pass has no data-dependent control flow.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = net.eval()
    example = torch.zeros((2, net.num_planes, *net.board_shape), dtype=torch.float32)
    with torch.inference_mode(False), torch.no_grad():
        traced = torch.jit.trace(net, example, check_trace=False)
    tmp = path.with_name(path.name + ".tmp")
    torch.jit.save(traced, str(tmp), _extra_files={METADATA_FILE: metadata})
    tmp.replace(path)
    return path


def load_torchscript(path: str | Path) -> tuple[torch.jit.ScriptModule, str]:
    """The saved module and its metadata text."""
    extra = {METADATA_FILE: ""}
    module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return module, extra[METADATA_FILE]
