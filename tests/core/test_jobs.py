"""The job wire contract: ``wait_for`` over any client's ``status``, and the shapes' own rules."""

from datetime import UTC, datetime

import pytest

from app.core.jobs import JobPublic, JobState, wait_for


def _job(state: JobState) -> JobPublic:
    now = datetime.now(UTC)
    return JobPublic(
        id="abcd1234",
        type="sleep",
        state=state,
        config={},
        progress=0.5,
        message="half",
        created_at=now,
        updated_at=now,
    )


def test_wait_for_polls_until_the_job_is_done():
    answers = iter([JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED])
    job = wait_for(lambda job_id: _job(next(answers)), "abcd1234", timeout=5, poll_s=0.001)
    assert job.succeeded and job.done


def test_wait_for_names_the_state_when_it_times_out():
    with pytest.raises(TimeoutError, match=r"job abcd1234 is still running \(50%: half\) after 0.01s"):
        wait_for(lambda job_id: _job(JobState.RUNNING), "abcd1234", timeout=0.01, poll_s=0.001)
