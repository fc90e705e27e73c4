"""``core.*``: discovery, events, jobs, downloads and session options."""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.truenas.dispatch import Pipes
from maas_dyn.sim.truenas.exceptions import instance_not_found
from maas_dyn.sim.truenas.filters import filter_list
from maas_dyn.sim.truenas.jobs import Job
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.schema import conform

__all__ = ["methods"]

methods = MethodTable()

# A download token lives this long, as in the middleware's core.download.
_DOWNLOAD_TOKEN_TTL = 300
_SESSION_OPTIONS = ("legacy_jobs", "private_methods", "py_exceptions")


@methods.method("core.ping")
def ping(call: Call) -> str:
    """Answer ``core.ping``."""
    return "pong"


@methods.method("core.get_methods")
def get_methods(call: Call) -> dict[str, Any]:
    """Answer ``core.get_methods(service, target)`` from the shipped document."""
    return call.rt.catalog.methods_document(call.args[0])


@methods.method("core.get_services")
def get_services(call: Call) -> dict[str, Any]:
    """Answer ``core.get_services(target)``."""
    return call.rt.catalog.services()


@methods.method("core.subscribe")
def subscribe(call: Call) -> str:
    """Answer ``core.subscribe(event)`` with a subscription id."""
    return call.rt.events.subscribe(call.session, call.args[0])


@methods.method("core.unsubscribe")
def unsubscribe(call: Call) -> None:
    """Answer ``core.unsubscribe(id)``."""
    call.rt.events.unsubscribe(call.session, call.args[0])


@methods.method("core.set_options")
def set_options(call: Call) -> dict[str, bool]:
    """Answer ``core.set_options(options)`` with the session's options after the change."""
    for name in _SESSION_OPTIONS:
        if name in call.args[0]:
            setattr(call.session, name, bool(call.args[0][name]))
    return {name: getattr(call.session, name) for name in _SESSION_OPTIONS}


@methods.method("core.get_jobs")
def get_jobs(call: Call) -> Any:
    """Answer ``core.get_jobs(filters, options)`` in the served release's job shape."""
    schema = call.rt.catalog.element_schema("core.get_jobs")
    rows = [conform(schema, record) for record in call.rt.jobs.records()]
    return filter_list(rows, call.args[0], call.args[1])


def _job(call: Call, job_id: int) -> Job:
    job = call.rt.jobs.get(job_id)
    if job is None:
        raise instance_not_found(f"Job with id {job_id} does not exist")
    return job


@methods.method("core.job_abort")
def job_abort(call: Call) -> None:
    """Answer ``core.job_abort(id)``."""
    call.rt.jobs.abort(_job(call, call.args[0]))


@methods.method("core.download")
def download(call: Call) -> list[Any]:
    """Answer ``core.download(method, args, filename, buffered)``.

    Starts the job with an output pipe and issues a single-use token bound to the job.
    """
    method, args, filename = str(call.args[0] or ""), call.args[1], call.args[2]
    assert call.session.credentials is not None  # the method requires a login
    job = call.dispatcher.start_job(call.session, method, list(args or []),
                                    Pipes(output=True))
    token = call.rt.tokens.create(
        call.session.credentials, ttl=_DOWNLOAD_TOKEN_TTL,
        attributes={"filename": filename, "job": job.id}, origin=call.session.origin,
        single_use=True)
    return [job.id, f"/_download/{job.id}?auth_token={token.value}"]


@methods.method("core.bulk")
def bulk(call: Call) -> list[dict[str, Any]]:
    """Run ``core.bulk(method, params, description)``: one call per parameter list.

    Like the middleware, the job itself succeeds; each entry reports its own error.
    """
    method, params, description = call.args[0], call.args[1], call.args[2]
    statuses: list[dict[str, Any]] = []
    for index, one in enumerate(params):
        text = f"{index} / {len(params)}"
        if description is not None:
            text += ": " + description.format(*one)
        call.progress(100 * index / len(params), text)
        try:
            job_id, result = call.dispatcher.run_nested(call.session, method, list(one))
        except Exception as exc:  # collected per entry, as the middleware does
            statuses.append({"job_id": None, "error": str(exc), "result": None})
        else:
            statuses.append({"job_id": job_id, "result": result, "error": None})
    return statuses
