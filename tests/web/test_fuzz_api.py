"""schemathesis over the node's own OpenAPI, in memory (ASGI), with the token: no input makes a 5xx, and every
answer is as the schema documents it (status code, media type, body).

The examples, coverage and fuzzing phases run per operation; the stateful phase follows the schema's links
(``POST /api/jobs`` to the job's routes, ``GET /api/models`` to the routes that take a model id) over a seeded
history, so it reaches past 404s. Seeded and derandomized: CI replays the same requests every run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.core.config import Settings
from app.web.main import create_app
from tests.web.dashboard.seed_history import seed_history

pytestmark = pytest.mark.slow

TOKEN = "fuzz-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
SEED = 16
MAX_EXAMPLES = 40  # per operation and phase; the whole file takes about a minute on two cores
CONFIG = {
    "seed": SEED,
    "headers": HEADERS,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": True, "max-steps": 10},
    },
    # No server error, and every answer as the schema documents it (status code, media type, body).
    "checks": {
        "enabled": False,
        **{
            name: {"enabled": True}
            for name in (
                "not_a_server_error",
                "status_code_conformance",
                "content_type_conformance",
                "response_schema_conformance",
            )
        },
    },
}
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


# parametrize needs the schema at collection: it is read from an app that serves nothing else (the schema does not
# depend on the data), and the tests below send their requests to the app over the seeded history instead.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(Settings(home=Path(tempfile.gettempdir()) / "zeroloop-fuzz-schema-only", token=TOKEN)),
    config=schemathesis.Config.from_dict(CONFIG),
)


@pytest.fixture(scope="module", autouse=True)
def seeded_node(tmp_path_factory):
    """The API over a history with models in every stage, jobs, games and evaluations, so linked ids resolve."""
    settings_ = Settings(home=tmp_path_factory.mktemp("fuzz") / "home", token=TOKEN)
    seed_history(settings_, running_seconds=1.0)
    schema.app = create_app(settings_)
    yield settings_


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_makes_a_server_error(case):
    case.call_and_validate(headers=HEADERS)  # the checks CONFIG enables


def test_the_stateful_phase_follows_the_links_without_a_server_error():
    machine = schema.as_state_machine()
    machine.run(settings=settings(FUZZ_SETTINGS, max_examples=25, stateful_step_count=10))
