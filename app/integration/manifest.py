"""Run manifests: what exactly produced a run's models, written beside them, and a replay's check against one.

``write_manifest`` writes ``<home>/models/<config_key>/manifest.json`` (``manifest-<run>.json`` for a run other than
main) after every finished cycle: the settings the run ran with, its seeds, package versions, the git commit of
the code when it is a checkout, the machine, and per cycle its settings, the job id of each step, the shards played
(name, sha256) and the candidate's checkpoint (file sha256, and the sha256 of its weights alone).

``zeroloop run --from-manifest FILE --home NEW`` replays the run into a fresh data directory: the same settings,
each cycle with the settings recorded for it (not re-derived by the feedback loop, whose rules read wall-clock
rates), then ``verify_replay`` compares. On the CPU the shards come out byte-identical; a checkpoint file does not,
since it records when it was written, so the weights are compared instead (their bytes, tensor by tensor).
A GPU run replays with the same settings, but its kernels need not be bitwise reproducible.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import InvalidConfig
from app.core.files import atomic_write, read_given_file
from app.core.names import MAIN_RUN, parse_config_key, parse_run
from app.integration.pipeline_config import PipelineConfig
from app.integration.pipeline_stages import cycle_seed
from app.integration.pipeline_state import PipelineState
from app.registry import ModelLifecycle
from app.storage.shards import ShardStore

MANIFEST_VERSION = 1
PACKAGES = ("zeroloop", "torch", "numpy", "numba", "onnxruntime", "safetensors", "sqlalchemy", "pydantic")


def manifest_path(settings: Settings, config_key: str, run: str = MAIN_RUN) -> Path:
    name = "manifest.json" if run == MAIN_RUN else f"manifest-{run}.json"
    return settings.home / "models" / config_key / name


def weights_sha256(path: Path | str) -> str:
    """The sha256 of a checkpoint's tensors (names and bytes, in name order), without its metadata."""
    # Imported here: safetensors is needed only when a manifest is written or checked.
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].tobytes())
    return digest.hexdigest()


def build_manifest(settings: Settings, config_key: str, run: str = MAIN_RUN) -> dict[str, Any]:
    state = PipelineState(settings, config_key, run)
    stored = state.get_run()
    config = PipelineConfig.model_validate(stored.settings) if stored else PipelineConfig()
    lifecycle = ModelLifecycle(settings)
    shards = {r.name: r.sha256 for r in ShardStore(settings).records(config_key)}
    known = _known_weights(manifest_path(settings, config_key, run))
    cycles = []
    for cycle in state.cycles():
        if cycle.status != "done":
            continue
        steps = state.steps(cycle.cycle)
        played = steps["selfplay"].result.get("shards") or [steps["selfplay"].result.get("shard_name")]
        model = lifecycle.get_model(cycle.candidate_model_id)
        cycles.append(
            {
                "cycle": cycle.cycle,
                "settings": cycle.settings,
                "changes": cycle.changes,
                "seed": cycle_seed(config, cycle),
                "jobs": {name: step.job_id for name, step in steps.items() if step.job_id},
                "shards": [{"name": name, "sha256": shards.get(name)} for name in played],
                "candidate": cycle.candidate_model_id,
                "checkpoint_sha256": model.sha256,
                "weights_sha256": known.get(model.sha256)
                or (weights_sha256(model.artifact_path) if model.artifact_path else None),
                "decision": cycle.summary.get("decision"),
            }
        )
    return {
        "manifest_version": MANIFEST_VERSION,
        "config_key": config_key,
        "run": run,
        "fork_model_id": stored.fork_model_id if stored else None,
        "settings": config.model_dump(mode="json"),
        "seed": config.seed,
        "cycles": cycles,
        "packages": _packages(),
        "git_commit": _git_commit(),
        "hardware": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },  # fmt: skip
    }


def write_manifest(settings: Settings, config_key: str, run: str = MAIN_RUN) -> Path:
    path = manifest_path(settings, config_key, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        f.write(json.dumps(build_manifest(settings, config_key, run), indent=2).encode())
    return path


def _known_weights(path: Path) -> dict[str, str]:
    """Checkpoint sha256 → weights sha256 from the manifest written before, so each checkpoint is read once."""
    try:
        cycles = json.loads(path.read_text(encoding="utf-8"))["cycles"]
        return {c["checkpoint_sha256"]: c["weights_sha256"] for c in cycles if c.get("weights_sha256")}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _packages() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


# -- replaying -------------------------------------------------------------------------------------------------


def read_manifest(path: Path | str) -> dict[str, Any]:
    """A manifest as written, checked for what a replay needs; ``InvalidConfig`` saying what is wrong."""
    path = Path(path)
    text = read_given_file(path, "--from-manifest", "a manifest.json a run wrote")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidConfig(f"--from-manifest {path} is not a readable JSON manifest: {exc}") from None
    if not isinstance(data, dict) or data.get("manifest_version") != MANIFEST_VERSION:
        raise InvalidConfig(
            f"--from-manifest {path} is not a version {MANIFEST_VERSION} run manifest\n"
            "runs write one beside their models: <home>/models/<config_key>/manifest.json"
        )
    try:
        parse_config_key(data["config_key"])
        parse_run(data["run"])
        PipelineConfig.model_validate(data["settings"])
        cycles = [int(c["cycle"]) for c in data["cycles"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidConfig(f"--from-manifest {path} is damaged: {exc}") from None
    if cycles != list(range(1, len(cycles) + 1)):
        raise InvalidConfig(
            f"--from-manifest {path}: its cycles are {cycles}, not 1..N\na replay needs them all"
        )
    if data.get("fork_model_id"):
        raise InvalidConfig(
            f"--from-manifest {path} is of run {data['run']}, forked from {data['fork_model_id']}\n"
            "replay the main run it was forked from (a fork's starting model is not in a new home)"
        )
    if any(change.get("action") == "rollback" for c in data["cycles"] for change in c.get("changes", [])):
        raise InvalidConfig(
            f"--from-manifest {path}: the run rolled back production, which a replay cannot redo"
        )
    return data


def verify_replay(settings: Settings, manifest: dict[str, Any]) -> tuple[int, list[str]]:
    """Compare the replayed run in ``settings``' home with ``manifest``: (items that matched, mismatches)."""
    replayed = build_manifest(settings, manifest["config_key"], manifest["run"])
    by_number = {c["cycle"]: c for c in replayed["cycles"]}
    matched, problems = 0, []
    for want in manifest["cycles"]:
        got = by_number.get(want["cycle"])
        if got is None:
            problems.append(f"cycle {want['cycle']} did not finish in the replay")
            continue
        for key in ("shards", "weights_sha256", "candidate", "decision"):
            if got[key] == want[key]:
                matched += 1
            else:
                problems.append(f"cycle {want['cycle']} {key}: recorded {want[key]}, replayed {got[key]}")
    return matched, problems
