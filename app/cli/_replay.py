"""``zeroloop run --from-manifest FILE --home NEW``: replay the run a manifest records, then check it against it."""

from __future__ import annotations

from pathlib import Path

import typer

from app.cli._common import console
from app.core.errors import InvalidConfig


def replay(path: Path, config_key: str | None, *, view, conflicting: list[str]) -> None:
    """Run the manifest's cycles with its settings in the current home, then say what matched."""
    from app.core.config import get_settings
    from app.integration.manifest import read_manifest, verify_replay
    from app.integration.pipeline import Pipeline
    from app.integration.pipeline_config import PipelineConfig
    from app.integration.pipeline_state import PipelineState
    from app.p2p.local_jobs import LocalJobs

    manifest = read_manifest(path)
    key, run = manifest["config_key"], manifest["run"]
    if config_key not in (None, key):
        raise InvalidConfig(
            f"--from-manifest {path} is a run of {key}, not {config_key}\ndrop {config_key} or pass {key}"
        )
    if conflicting:
        raise InvalidConfig(
            f"--from-manifest replays the settings it records; {', '.join(conflicting)} would change them\n"
            "give only --from-manifest FILE (and --home NEW)"
        )
    if not manifest["cycles"]:
        raise InvalidConfig(f"--from-manifest {path} records no finished cycle: nothing to replay")
    settings = get_settings()
    if PipelineState(settings, key, run).cycles():
        raise InvalidConfig(
            f"{settings.home} already holds cycles of {key}: a replay needs a fresh data directory\n"
            "zeroloop --home NEW run --from-manifest FILE"
        )
    config = PipelineConfig.model_validate(manifest["settings"])
    if config.mode == "continuous":
        raise InvalidConfig(
            f"--from-manifest {path} records a mode=continuous run: which shards each candidate trained on, and "
            "which model played them, follow its selfplay fleet's timing, so no replay reproduces it (the manifest "
            "still names each cycle's settings, shards and weights)\nreplay a run made with --set mode=sync"
        )
    cycles = {c["cycle"]: c["settings"] for c in manifest["cycles"]}
    console.print(
        f"[bold]replaying {key}[/] ({len(cycles)} cycles from {path}) into {settings.home.resolve()}"
    )
    with LocalJobs(settings, slots=config.job_slots) as jobs, view.progress:
        Pipeline(key, settings=settings, config=config, jobs=jobs, on_event=view.on_event, replay=cycles).run(
            len(cycles)
        )
    matched, problems = verify_replay(settings, manifest)
    for problem in problems:
        console.print(f"[red]differs:[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(
        f"replay identical to the manifest: {matched} checks (shards byte for byte, checkpoint weights, "
        "candidates, gate decisions)"
    )
