import pytest

from app.integration.feedback import PipelineFeedback


@pytest.fixture
def fb(settings) -> PipelineFeedback:
    """The feedback service over the test's own database."""
    return PipelineFeedback(settings)
