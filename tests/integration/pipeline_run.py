"""Runs a tiny pipeline in its own process (the kill-and-resume tests kill this process).

python -m tests.integration.pipeline_run CYCLES [sync|async|gate_async|continuous] [SELFPLAY_JOBS]
"""

import sys

from app.core.config import get_settings
from app.integration.pipeline import Pipeline
from app.p2p.local_jobs import LocalJobs
from tests.integration.test_pipeline import KEY, tiny_config

if __name__ == "__main__":
    mode = sys.argv[2] if len(sys.argv) > 2 else "sync"
    selfplay_jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    config = tiny_config().model_copy(update={"mode": mode, "selfplay_jobs": selfplay_jobs})
    if mode == "continuous":
        from tests.integration.test_pipeline_continuous import continuous_config

        config = continuous_config()
    with LocalJobs(get_settings(), slots=config.job_slots) as jobs:
        Pipeline(KEY, config=config, jobs=jobs).run(int(sys.argv[1]))
