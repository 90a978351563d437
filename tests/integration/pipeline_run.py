"""Runs a tiny pipeline in its own process (the kill-and-resume test kills this process)."""

import sys

from app.core.config import get_settings
from app.integration.pipeline import Pipeline
from app.p2p.local_jobs import LocalJobs
from tests.integration.test_pipeline import KEY, tiny_config

if __name__ == "__main__":
    with LocalJobs(get_settings()) as jobs:
        Pipeline(KEY, config=tiny_config(), jobs=jobs).run(int(sys.argv[1]))
