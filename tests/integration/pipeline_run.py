"""Runs a tiny pipeline in its own process (the kill-and-resume tests kill this process).

python -m tests.integration.pipeline_run CYCLES [sync|async]
"""

import sys

from app.core.config import get_settings
from app.integration.pipeline import Pipeline
from app.p2p.local_jobs import LocalJobs
from tests.integration.test_pipeline import KEY, tiny_config

if __name__ == "__main__":
    mode = sys.argv[2] if len(sys.argv) > 2 else "sync"
    with LocalJobs(get_settings(), slots=2 if mode == "async" else 1) as jobs:
        Pipeline(KEY, config=tiny_config().model_copy(update={"mode": mode}), jobs=jobs).run(int(sys.argv[1]))
