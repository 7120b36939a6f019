"""Long work, run outside the page script, with a state that every tab can read.

A job is a named kind (``JOB_KINDS``) applied to a :class:`~backend.specs.RunSpec`. Its
id is the hash of both, so asking for a job that is already running attaches to it
instead of starting another. Its record lives in the result store under ``job/<id>``::

    queued -> running (progress, message) -> done | failed (error) | cancelled

:func:`submit` starts the job in a separate process (``python -m backend _worker ID``)
in its own process group: the Streamlit server stays responsive, the job survives a page
reload or a server restart, and :func:`cancel` can kill it. The job's stages write their
results to the store one atomic entry at a time, so a job killed mid-way keeps every
stage it finished and leaves nothing half-written. :func:`run_inline` runs a job in the
calling process (the CLI and the tests use it), recording the same state.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from backend.errors import ValueRiskError
from backend.settings import PROJECT_ROOT
from backend.specs import RunSpec, spec_from_dict, spec_hash
from backend.store import Store, open_store
from backend.training import Progress

__all__ = [
    "JOB_KINDS",
    "JobState",
    "register_job",
    "job_id",
    "submit",
    "run_inline",
    "status",
    "cancel",
    "staged",
]

STATES = ("queued", "running", "done", "failed", "cancelled")
_PROGRESS_INTERVAL = 0.25  # seconds between progress writes to the store

# fn(spec, store, progress, **params) -> a small, JSON-able summary dict
JobFunction = Callable[..., dict]
JOB_KINDS: dict[str, tuple[JobFunction, str]] = {}

# Worker processes started by this process, so they can be reaped once they exit.
_CHILDREN: dict[str, subprocess.Popen] = {}


def register_job(name: str, description: str):
    """Decorator: register ``fn(spec, store, progress, **params) -> summary`` as a job.

    ``params`` are the job's own JSON-able settings beyond the RunSpec (budgets, seeds);
    they are part of the job's id.
    """

    def decorate(fn: JobFunction) -> JobFunction:
        JOB_KINDS[name] = (fn, description)
        return fn

    return decorate


@dataclass(frozen=True)
class JobState:
    """A snapshot of a job's record."""

    id: str
    kind: str
    state: str
    progress: float = 0.0
    message: str = ""
    error: str = ""
    summary: dict | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


def job_id(kind: str, spec: RunSpec, params: dict | None = None) -> str:
    return spec_hash({"kind": kind, "spec": spec.to_dict(), "params": params or {}})[
        :24
    ]


def _key(jid: str) -> str:
    return f"job/{jid}"


def _check_kind(kind: str) -> None:
    _load_job_kinds()
    if kind not in JOB_KINDS:
        raise ValueRiskError(
            f"unknown job {kind!r}; choose one of {sorted(JOB_KINDS)}."
        )


# Modules whose import registers job kinds (each with @register_job): the job functions
# live beside the stages they run.
JOB_MODULES = (
    "backend.tasks",
    "backend.attacks.stealing",
    "backend.attacks.backdoor",
    "backend.studies.tasks",
    "backend.attacks.attributes",
    "backend.attacks.reconstruction",
)


def _load_job_kinds() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


# -- reading state --------------------------------------------------------------------


def status(jid: str, *, store: Store | None = None) -> JobState | None:
    """The job's current state, or None if it was never submitted.

    A job whose worker process has died without reporting is shown as failed.
    """
    store = store or open_store()
    record = store.raw.get(_key(jid))
    if record is None:
        return None
    if record["state"] in ("queued", "running") and not _alive(jid, record.get("pid")):
        record = _finish(
            store, jid, "failed", error="the worker process stopped unexpectedly"
        )
    return _to_state(jid, record)


def _to_state(jid: str, record: dict) -> JobState:
    return JobState(
        id=jid,
        kind=record["kind"],
        state=record["state"],
        progress=record.get("progress", 0.0),
        message=record.get("message", ""),
        error=record.get("error", ""),
        summary=record.get("summary"),
        started=record.get("started", 0.0),
        finished=record.get("finished", 0.0),
    )


def _alive(jid: str, pid: int | None) -> bool:
    if pid is None:
        return True  # queued, not yet started
    child = _CHILDREN.get(jid)
    if child is not None and child.pid == pid:
        return child.poll() is None  # also reaps the exited child
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


# -- writing state --------------------------------------------------------------------


def _update(store: Store, jid: str, **fields) -> dict:
    with store.raw.transact():
        record = store.raw.get(_key(jid)) or {}
        record.update(fields)
        store.raw.set(_key(jid), record)
    return record


def _finish(store: Store, jid: str, state: str, **fields) -> dict:
    return _update(store, jid, state=state, finished=time.time(), **fields)


def _claim(
    store: Store, kind: str, spec: RunSpec, params: dict, jid: str
) -> JobState | None:
    """Mark the job queued unless it is already active; returns the active job if so."""
    with store.raw.transact():
        record = store.raw.get(_key(jid))
        if record is not None and record["state"] in ("queued", "running"):
            if _alive(jid, record.get("pid")):
                return _to_state(jid, record)
        store.raw.set(
            _key(jid),
            {
                "kind": kind,
                "spec": spec.to_dict(),
                "params": params,
                "state": "queued",
                "progress": 0.0,
                "message": "waiting to start",
                "started": time.time(),
                "pid": None,
            },
        )
    return None


# -- running --------------------------------------------------------------------------


def submit(
    kind: str,
    spec: RunSpec,
    *,
    params: dict | None = None,
    store: Store | None = None,
) -> JobState:
    """Start the job in a worker process, or attach to it if it is already running."""
    _check_kind(kind)
    store = store or open_store()
    params = params or {}
    jid = job_id(kind, spec, params)
    active = _claim(store, kind, spec, params, jid)
    if active is not None:
        return active
    env = {**os.environ, "VALUERISK_CACHE_DIR": str(store.directory)}
    child = subprocess.Popen(
        [sys.executable, "-m", "backend", "_worker", jid],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so cancel() can kill it whole
    )
    _CHILDREN[jid] = child
    _update(store, jid, pid=child.pid)
    return status(jid, store=store)


def run_inline(
    kind: str,
    spec: RunSpec,
    *,
    params: dict | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
) -> dict:
    """Run the job in this process, recording its state; returns its summary.

    Raises whatever the job raises, after recording it as failed.
    """
    _check_kind(kind)
    store = store or open_store()
    params = params or {}
    jid = job_id(kind, spec, params)
    active = _claim(store, kind, spec, params, jid)
    if active is not None:
        raise ValueRiskError(
            f"job {kind!r} for this spec is already running (id {jid}); wait for it or "
            "cancel it first."
        )
    return _execute(store, jid, progress=progress)


def run_worker(jid: str, *, store: Store | None = None) -> int:
    """Entry point of the worker process: run a queued job; returns an exit code."""
    from backend.device import set_worker_threads

    set_worker_threads()
    store = store or open_store()
    try:
        _execute(store, jid)
    except Exception:  # recorded in the job's state by _execute
        return 1
    return 0


def _execute(store: Store, jid: str, *, progress: Progress | None = None) -> dict:
    record = store.raw.get(_key(jid))
    kind, spec = record["kind"], spec_from_dict(record["spec"])
    _load_job_kinds()
    fn, _ = JOB_KINDS[kind]
    _update(store, jid, state="running", pid=os.getpid(), message="starting")

    last_write = 0.0

    def report(fraction: float, message: str) -> None:
        nonlocal last_write
        if progress is not None:
            progress(fraction, message)
        now = time.monotonic()
        if now - last_write >= _PROGRESS_INTERVAL or fraction >= 1.0:
            last_write = now
            _update(store, jid, progress=float(fraction), message=message)

    try:
        summary = fn(spec, store, report, **record.get("params", {}))
    except ValueRiskError as error:
        _finish(store, jid, "failed", error=str(error))
        raise
    except BaseException as error:
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        _finish(store, jid, "failed", error=f"internal error: {detail}")
        raise
    _finish(store, jid, "done", progress=1.0, message="finished", summary=summary)
    return summary


def cancel(jid: str, *, store: Store | None = None) -> bool:
    """Stop a running job (its finished stages stay stored). True if one was stopped."""
    store = store or open_store()
    record = store.raw.get(_key(jid))
    if record is None or record["state"] not in ("queued", "running"):
        return False
    pid = record.get("pid")
    if pid and pid != os.getpid() and _alive(jid, pid):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        child = _CHILDREN.pop(jid, None)
        if child is not None:
            child.wait(timeout=10)
    _finish(store, jid, "cancelled", message="cancelled by the user")
    return True


def staged(progress: Progress, stages: list[tuple[str, float]]):
    """Split one progress bar into named stages with relative weights.

    Returns a function ``stage(name) -> Progress`` whose callbacks map a stage's own
    0..1 progress into its share of the whole bar.
    """
    total = sum(weight for _, weight in stages)
    starts, position = {}, 0.0
    for name, weight in stages:
        starts[name] = (position / total, weight / total)
        position += weight

    def stage(name: str) -> Progress:
        start, width = starts[name]

        def report(fraction: float, message: str) -> None:
            progress(start + width * min(max(fraction, 0.0), 1.0), f"{name}: {message}")

        return report

    return stage
