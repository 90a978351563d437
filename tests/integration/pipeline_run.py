"""Runs a tiny pipeline in its own process (the kill-and-resume test kills this process)."""

import sys

from app.integration.pipeline import Pipeline
from tests.integration.test_pipeline import KEY, tiny_config

if __name__ == "__main__":
    with Pipeline(KEY, config=tiny_config()) as pipeline:
        pipeline.run(int(sys.argv[1]))
