"""How services declare the methods they model, and what a handler receives.

A service module owns a :class:`MethodTable` and decorates one function per method::

    methods = MethodTable()

    @methods.method("pool.query")
    def query(call: Call) -> Any:
        ...

The handler gets a :class:`Call` with the validated arguments (defaults applied) and,
for job methods, the :class:`~maas_dyn.sim.truenas.jobs.Job` it runs as.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from maas_dyn.sim.truenas.exceptions import JobAborted
from maas_dyn.sim.truenas.jobs import Job
from maas_dyn.sim.truenas.runtime import Runtime
from maas_dyn.sim.truenas.session import Session

if TYPE_CHECKING:
    from maas_dyn.sim.truenas.dispatch import Dispatcher

__all__ = ["Call", "Entry", "Handler", "MethodTable"]


@dataclass
class Call:
    """One call of a modelled method, as its handler sees it.

    Attributes:
        rt: The simulator's parts.
        session: The calling session.
        method: The method name.
        args: Validated positional arguments with defaults filled in.
        dispatcher: The call funnel, for methods that call other methods.
        job: The job this call runs as (job methods only).
        params: The parameters as the caller sent them, before defaults were filled in
            (an update must tell the fields sent from the schema's defaults).
    """

    rt: Runtime
    session: Session
    method: str
    args: list[Any]
    dispatcher: Dispatcher
    job: Job | None = None
    params: list[Any] = field(default_factory=list)

    def arg(self, index: int, default: Any = None) -> Any:
        """Read an optional positional argument that a release may not have.

        Args:
            index: Position.
            default: Value when the release's method has fewer parameters.

        Returns:
            The argument, or ``default``.
        """
        return self.args[index] if index < len(self.args) else default

    def progress(self, percent: float, description: str | None = None,
                 extra: object = None) -> None:
        """Report job progress (ignored outside jobs).

        Args:
            percent: 0-100.
            description: What the job is doing.
            extra: Job-specific data.
        """
        if self.job is not None:
            self.rt.jobs.set_progress(self.job, percent, description, extra)

    def sleep(self, sim_seconds: float) -> None:
        """Let simulated time pass, stopping early when the job is aborted.

        Args:
            sim_seconds: Simulated seconds.

        Raises:
            JobAborted: The job was aborted or the simulator is stopping.
        """
        cancel = self.job.abort_requested if self.job is not None else self.session.closed
        if not self.rt.clock.sleep(sim_seconds, cancel):
            raise JobAborted()

    def step(self, percent: float, description: str, sim_seconds: float) -> None:
        """Report progress, then let time pass: one step of a simulated job.

        Args:
            percent: Progress reached at the start of the step.
            description: What the step does.
            sim_seconds: How long the step takes.
        """
        self.progress(percent, description)
        self.sleep(sim_seconds)

    def publish(self, collection: str, msg: str, item_id: object = None,
                fields: dict[str, Any] | None = None) -> None:
        """Publish a ``collection_update``.

        Args:
            collection: Event name.
            msg: ``ADDED``, ``CHANGED`` or ``REMOVED``.
            item_id: Object id.
            fields: The object.
        """
        self.rt.events.publish(collection, msg, item_id=item_id, fields=fields)

    def input_bytes(self) -> bytes:
        """Return the uploaded file of an upload job (empty when none)."""
        if self.job is None:
            return b""
        return self.job.input or b""

    def write_output(self, data: bytes) -> None:
        """Append to a download job's output (ignored when nobody downloads).

        Args:
            data: Bytes to append.
        """
        if self.job is not None and self.job.output is not None:
            self.job.output.extend(data)


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Entry:
    """A modelled method.

    Attributes:
        handler: The function that answers it.
        abortable: Reported as the job's ``abortable``.
        lock: Jobs of methods with the same lock run one at a time.
    """

    handler: Handler
    abortable: bool = False
    lock: str | None = None


class MethodTable(Mapping[str, Entry]):
    """Method name -> handler table of one service (or of all of them)."""

    def __init__(self, entries: Mapping[str, Entry] | None = None):
        self._entries: dict[str, Entry] = dict(entries or {})

    def method(self, *names: str, abortable: bool = False, lock: str | None = None
               ) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of one or more methods.

        Args:
            *names: Method names (a release may call the same thing differently).
            abortable: Whether the job reports itself abortable.
            lock: Name of a lock shared by jobs that must not run at the same time.

        Returns:
            The decorator.
        """
        def register(handler: Handler) -> Handler:
            for name in names:
                self._entries[name] = Entry(handler, abortable, lock)
            return handler
        return register

    @classmethod
    def merged(cls, *tables: MethodTable) -> MethodTable:
        """Combine tables; later tables win on duplicate names.

        Args:
            *tables: The tables.

        Returns:
            A new table.
        """
        entries: dict[str, Entry] = {}
        for table in tables:
            entries.update(table._entries)
        return cls(entries)

    def __getitem__(self, name: str) -> Entry:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
