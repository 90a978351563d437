from app.core.jobs import JobCreate, JobState
from app.p2p import leased, paths, store, worker


def claimed(settings, **config):
    job = store.submit(settings, JobCreate(type="sleep", config=config))
    (claim,) = store.claim(settings, node_id="test", executor="local", limit=1)
    return job.id, claim.lease


def test_runs_a_job_and_records_result_progress_and_log(settings):
    job_id, lease = claimed(settings, seconds=0.05, progress_steps=3)
    assert worker.run_job(job_id, lease, settings=settings) == 0
    job = store.get_job(settings, job_id)
    assert job.state is JobState.SUCCEEDED and job.progress == 1.0
    assert job.result["steps"] == 3 and job.result["slept_s"] >= 0.05
    assert job.pid is not None and job.worker_host
    log = paths.log_path(settings, job_id).read_text()
    assert f"start type=sleep lease={lease} attempt=1 node=test" in log and "succeeded" in log


def test_a_failing_stage_fails_the_job_with_a_traceback_summary(settings):
    job_id, lease = claimed(settings, seconds=0, fail=True)
    assert worker.run_job(job_id, lease, settings=settings) == 0
    job = store.get_job(settings, job_id)
    assert job.state is JobState.FAILED and job.result is None
    assert job.error.startswith("SleepFailed: sleep job failed on purpose")
    assert "sleep_job.py" in job.error and "run_sleep" in job.error
    assert job.message.startswith("SleepFailed:")


def test_a_worker_with_a_stale_lease_does_nothing(settings):
    job_id, lease = claimed(settings, seconds=0)
    store.cancel(settings, job_id)
    assert worker.run_job(job_id, lease, settings=settings) == 0
    job = store.get_job(settings, job_id)
    assert job.state is JobState.CANCELLED and job.pid is None
    assert "no longer running under this lease" in paths.log_path(settings, job_id).read_text()


def test_cancel_during_the_run_stops_at_the_next_progress_report(settings, monkeypatch):
    job_id, lease = claimed(settings, seconds=0.3, progress_steps=3)
    monkeypatch.setattr(worker, "PROGRESS_MIN_INTERVAL_S", 0.0)
    real = leased.report_progress

    def cancel_then_report(*args):
        store.cancel(settings, job_id)
        return real(*args)

    monkeypatch.setattr(leased, "report_progress", cancel_then_report)
    assert worker.run_job(job_id, lease, settings=settings) == 0
    job = store.get_job(settings, job_id)
    assert job.state is JobState.CANCELLED and job.result is None
    assert "stopped lease=1: job was cancelled" in paths.log_path(settings, job_id).read_text()


def test_a_second_process_for_the_same_job_is_refused(settings):
    job_id, lease = claimed(settings, seconds=0)
    held = paths.take_lock(settings, job_id)
    try:
        assert paths.lock_held(settings, job_id)
        assert worker.run_job(job_id, lease, settings=settings) == worker.EXIT_BUSY
    finally:
        held.close()
    assert not paths.lock_held(settings, job_id)
    assert store.get_job(settings, job_id).state is JobState.RUNNING


def test_results_are_stored_as_json():
    from app.p2p.sleep_job import SleepResult

    assert worker.to_jsonable(SleepResult(slept_s=1.5, steps=2)) == {"slept_s": 1.5, "steps": 2}
    assert worker.to_jsonable({"a": (1, 2)}) == {"a": [1, 2]}
