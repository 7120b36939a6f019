import os
import signal
import time

import pytest

from backend import jobs
from backend.errors import ValueRiskError
from backend.specs import make_runspec

from .conftest import tiny_spec


@pytest.fixture
def toy_job():
    """A job kind that counts to three, or fails when the seed is 13."""

    def count(spec, store, progress):
        if spec.split.seed == 13:
            raise ValueRiskError("thirteen is unlucky")
        for i in range(3):
            progress((i + 1) / 3, f"step {i + 1}")
        return {"counted": 3}

    jobs._load_job_kinds()
    jobs.JOB_KINDS["toy"] = (count, "a test job")
    yield "toy"
    del jobs.JOB_KINDS["toy"]


def _wait(jid, store, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = jobs.status(jid, store=store)
        if not state.active:
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {jid} still {state.state} after {timeout}s")


def test_inline_job_records_progress_and_result(store, toy_job):
    spec = make_runspec("digits")
    seen = []
    summary = jobs.run_inline(
        toy_job, spec, store=store, progress=lambda f, m: seen.append(m)
    )
    assert summary == {"counted": 3}
    assert seen == ["step 1", "step 2", "step 3"]
    state = jobs.status(jobs.job_id(toy_job, spec), store=store)
    assert state.state == "done" and state.progress == 1.0 and state.summary == summary


def test_failed_job_keeps_its_error_and_can_be_retried(store, toy_job):
    spec = make_runspec("digits", seed=13)
    with pytest.raises(ValueRiskError, match="unlucky"):
        jobs.run_inline(toy_job, spec, store=store)
    state = jobs.status(jobs.job_id(toy_job, spec), store=store)
    assert state.state == "failed" and state.error == "thirteen is unlucky"
    with pytest.raises(ValueRiskError):  # a retry runs again (and fails again)
        jobs.run_inline(toy_job, spec, store=store)


def test_unknown_job_kind_lists_the_known_ones(store):
    with pytest.raises(ValueRiskError, match=r"unknown job 'nope'; choose one of \["):
        jobs.submit("nope", make_runspec("digits"), store=store)


def test_worker_process_trains_and_a_second_submit_attaches(store):
    spec = tiny_spec()
    first = jobs.submit("train", spec, store=store)
    second = jobs.submit("train", spec, store=store)
    assert first.id == second.id and second.active
    final = _wait(first.id, store)
    assert final.state == "done", final.error
    assert final.summary["target"]["train_accuracy"] > 0.5


def test_cancel_stops_the_worker_and_a_killed_worker_reads_as_failed(store):
    spec = tiny_spec(train={"epochs": 500})
    state = jobs.submit("train", spec, store=store)
    assert jobs.cancel(state.id, store=store)
    assert jobs.status(state.id, store=store).state == "cancelled"
    assert store.raw.get(f"job/{state.id}")["state"] == "cancelled"

    # A worker that dies without reporting (killed from outside) is shown as failed.
    state = jobs.submit("train", spec, store=store)
    pid = store.raw.get(f"job/{state.id}")["pid"]
    os.killpg(pid, signal.SIGKILL)
    jobs._CHILDREN[state.id].wait(timeout=10)
    final = jobs.status(state.id, store=store)
    assert final.state == "failed" and "stopped unexpectedly" in final.error
    # ...and nothing it was computing reads as finished.
    from backend import pipeline

    ctx = pipeline.make_context(spec, store=store)
    assert not pipeline.stage_status(ctx)["target model"]


def test_staged_progress_maps_stages_onto_one_bar():
    seen = []
    stage = jobs.staged(
        lambda f, m: seen.append((round(f, 3), m)), [("a", 1), ("b", 3)]
    )
    stage("a")(1.0, "done")
    stage("b")(0.5, "half")
    assert seen == [(0.25, "a: done"), (0.625, "b: half")]
