"""The end-of-run report: the anchored Elo of each production generation, as rows and as a PNG plot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.config import Settings
from app.core.files import atomic_write
from app.core.names import MAIN_RUN, is_anchor
from app.registry import ModelLifecycle, ModelStage


@dataclass(frozen=True)
class GenerationElo:
    generation: int
    model_id: str
    elo: float | None
    ci_low: float | None
    ci_high: float | None
    games: int


def production_generations(settings: Settings, config_key: str, run: str = MAIN_RUN) -> list[str]:
    """Model ids of ``run`` that have been in PRODUCTION for ``config_key``, in the order they got there."""
    lifecycle = ModelLifecycle(settings)
    of_run = {m.model_id for m in lifecycle.list_models(config_key, run=run)}
    seen: list[str] = []
    for t in lifecycle.config_history(config_key):
        if t.to_stage is ModelStage.PRODUCTION and t.model_id in of_run and t.model_id not in seen:
            seen.append(t.model_id)
    return seen


def generation_elos(
    settings: Settings, config_key: str, run: str = MAIN_RUN
) -> tuple[list[GenerationElo], dict[str, float]]:
    """Each production generation's rating (random = 0) and the anchors' ratings, from one fit of all games."""
    by_run, anchors = runs_generation_elos(settings, config_key, [run])
    return by_run[run], anchors


def runs_generation_elos(
    settings: Settings, config_key: str, runs: list[str]
) -> tuple[dict[str, list[GenerationElo]], dict[str, float]]:
    """``generation_elos`` of several runs from the one anchored fit of every game of the config key, so that
    the runs' models are on one scale."""
    # Imported here: the evaluation stage (numba, the arena) loads only when the report is made.
    from app.evaluation import config_ratings

    table = config_ratings(config_key, settings=settings)
    by_name = {r.name: r for r in table.ratings}
    by_run: dict[str, list[GenerationElo]] = {}
    for run in runs:
        rows = by_run.setdefault(run, [])
        for i, model_id in enumerate(production_generations(settings, config_key, run), start=1):
            r = by_name.get(model_id)
            rows.append(
                GenerationElo(
                    i,
                    model_id,
                    r.elo if r else None,
                    r.ci_low if r else None,
                    r.ci_high if r else None,
                    r.games if r else 0,
                )  # fmt: skip
            )
    anchors = {name: r.elo for name, r in by_name.items() if is_anchor(name)}
    return by_run, anchors


def plot_generations(
    path: Path, config_key: str, rows: list[GenerationElo], anchors: dict[str, float]
) -> Path:
    """Write the Elo-per-generation plot (PNG) atomically and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rated = [r for r in rows if r.elo is not None]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    if rated:
        xs = [r.generation for r in rated]
        ys = [r.elo for r in rated]
        lo = [r.elo - r.ci_low for r in rated]
        hi = [r.ci_high - r.elo for r in rated]
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, label="production generations")
        for r in rated:
            ax.annotate(r.model_id.rsplit("_", 1)[-1], (r.generation, r.elo), textcoords="offset points",
                        xytext=(4, 6), fontsize=8)  # fmt: skip
    for name, elo in sorted(anchors.items(), key=lambda kv: kv[1]):
        ax.axhline(elo, linestyle="--", linewidth=1, color="grey")
        ax.text(0.99, elo, f" {name}", va="bottom", ha="right", fontsize=8, color="grey",
                transform=ax.get_yaxis_transform())  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("production generation")
    ax.set_ylabel("Elo (random = 0)")
    ax.set_title(f"{config_key}: strength of each production model")
    ax.grid(alpha=0.3)
    if rated:
        ax.legend(loc="upper left")
    fig.tight_layout()
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)
    return path
