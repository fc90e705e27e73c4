"""TrueNAS cassettes: JSON-RPC sessions as JSON lines, recorded and replayed at the Link seam.

The recorder wraps the client's opener (:attr:`maas_dyn.truenas.Client.opener`), so it
sees every frame on the wire: logins, calls, results, errors, job events and other
notifications. The replayer is an in-process peer that answers from the file. One JSON
object per line::

    {"kind": "cassette", "format": "maas_dyn.truenas", "version": 1}
    {"kind": "connect", "url": "ws://127.0.0.1:41234/api/current"}
    {"kind": "call", "n": 1, "method": "auth.login_ex", "params": [{"password": "<redacted>", ...}]}
    {"kind": "result", "n": 1, "result": {"response_type": "SUCCESS", ...}}
    {"kind": "error", "n": 4, "error": {"code": -32001, "message": "...", "data": {...}}}
    {"kind": "job", "method": "collection_update", "params": {"collection": "core.get_jobs", ...}}
    {"kind": "notification", "method": "collection_update", "params": {...}}

``n`` numbers the calls of the cassette and replies name it, so nothing depends on
JSON-RPC ids. A replay expects the calls in the recorded order (with parameters
redacted the same way); after each call it sends what followed it in the recording:
replies, job events, notifications. Keep-alive pings are neither recorded nor expected.
Secrets are redacted when the file is written (:mod:`maas_dyn.testing.redact`).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from maas_dyn.testing._peer import PeerLink, require_jsonrpc
from maas_dyn.testing.errors import CassetteMismatchError
from maas_dyn.testing.redact import Redactor
from maas_dyn.truenas.client import Opener
from maas_dyn.truenas.jobs import JOBS_COLLECTION
from maas_dyn.truenas.transport import Link

__all__ = ["FORMAT", "VERSION", "WSRecorder", "WSReplayer", "read_cassette"]

FORMAT = "maas_dyn.truenas"
VERSION = 1
PING = "core.ping"  # the keep-alive: timing-dependent, so never part of a session
_STOPS = frozenset({"call", "connect"})  # what the replayer waits for the client to do

Entry = dict[str, Any]


# -- recording --------------------------------------------------------------------------------

class _TapLink:
    """A Link that reports every frame to the recorder and passes it on unchanged."""

    def __init__(self, inner: Link, recorder: WSRecorder):
        self._inner = inner
        self._recorder = recorder

    def send(self, text: str) -> None:
        # Recorded before it is sent: the reply can then never be recorded first.
        self._recorder.sent(self, text)
        self._inner.send(text)

    def recv(self) -> str | bytes:
        text = self._inner.recv()
        self._recorder.received(self, text)
        return text

    def close(self) -> None:
        self._inner.close()

    def abort(self) -> None:
        self._inner.abort()


def _frame(text: str | bytes) -> Mapping[str, Any]:
    try:
        message = json.loads(text)
    except ValueError:
        return {}  # the connection ignores such frames too
    return message if isinstance(message, Mapping) else {}


class WSRecorder:
    """Records the sessions of connections it opens, and writes them as a cassette.

    Args:
        path: The JSON-lines file (written by :meth:`save`).
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        # (tap link, JSON-RPC id) -> (call number, method); None for a ping.
        self._calls: dict[tuple[_TapLink, Any], tuple[int, str] | None] = {}
        self._numbers = itertools.count(1)

    def wrap(self, opener: Opener) -> Opener:
        """Return an opener that records the connections ``opener`` makes.

        Args:
            opener: The client's current opener.

        Returns:
            The recording opener, for :attr:`maas_dyn.truenas.Client.opener`.
        """
        def open_recorded(url: str, verify: bool | str, timeout: float) -> Link:
            require_jsonrpc(url, "cassette recording")
            link = opener(url, verify, timeout)
            with self._lock:
                self._entries.append({"kind": "connect", "url": url})
            return _TapLink(link, self)

        return open_recorded

    def sent(self, tap: _TapLink, text: str) -> None:
        """Note a frame the client sends (only calls are kept; pings are skipped).

        Args:
            tap: The link it is sent on (request ids are unique per link only).
            text: The frame.
        """
        message = _frame(text)
        method, request_id = message.get("method"), message.get("id")
        if not isinstance(method, str) or request_id is None:
            return
        with self._lock:
            if method == PING:
                self._calls[tap, request_id] = None
                return
            number = next(self._numbers)
            self._calls[tap, request_id] = (number, method)
            self._entries.append({"kind": "call", "n": number, "method": method,
                                  "params": message.get("params", [])})

    def received(self, tap: _TapLink, text: str | bytes) -> None:
        """Note a frame the server sends: a reply to a recorded call, or an event.

        Args:
            tap: The link it arrived on.
            text: The frame.
        """
        message = _frame(text)
        with self._lock:
            if "method" in message:
                params = message.get("params")
                collection = params.get("collection") if isinstance(params, Mapping) else None
                self._entries.append({
                    "kind": "job" if collection == JOBS_COLLECTION else "notification",
                    "method": message["method"], "params": params})
            elif "id" in message:
                call = self._calls.pop((tap, message["id"]), None)
                if call is None:
                    return  # a ping's answer, or one to a call made before recording
                if "error" in message:
                    self._entries.append({"kind": "error", "n": call[0],
                                          "error": message["error"]})
                else:
                    self._entries.append({"kind": "result", "n": call[0],
                                          "result": message.get("result")})

    def save(self) -> Path:
        """Write the cassette, secrets redacted.

        Returns:
            Its path.
        """
        with self._lock:
            entries = list(self._entries)
        methods = {entry["n"]: entry["method"] for entry in entries if entry["kind"] == "call"}
        redactor = Redactor()
        # Twice: the first pass learns every secret the rules find, the second scrubs
        # them wherever they appear, even before the line that revealed them.
        for _ in range(2):
            lines = [_REDACT[entry["kind"]](redactor, entry, methods) for entry in entries]
        header = {"kind": "cassette", "format": FORMAT, "version": VERSION}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(json.dumps(line) + "\n" for line in [header, *lines]),
                             encoding="utf-8")
        return self.path


Redaction = Callable[[Redactor, Entry, Mapping[int, str]], Entry]

_REDACT: Mapping[str, Redaction] = {
    "connect": lambda r, e, m: {**e, "url": r.text(e["url"])},
    "call": lambda r, e, m: {**e, "params": r.params(e["method"], e["params"])},
    "result": lambda r, e, m: {**e, "result": r.result(m[e["n"]], e["result"])},
    "error": lambda r, e, m: {**e, "error": r.value(e["error"])},
    "job": lambda r, e, m: {**e, "params": r.value(e["params"])},
    "notification": lambda r, e, m: {**e, "params": r.value(e["params"])},
}


# -- replaying --------------------------------------------------------------------------------

# The members each kind of entry must have, with their JSON types.
_NEEDS: Mapping[str, Mapping[str, type | tuple[type, ...]]] = {
    "connect": {},
    "call": {"n": int, "method": str, "params": list},
    "result": {"n": int},
    "error": {"n": int, "error": dict},
    "job": {"method": str, "params": dict},
    "notification": {"method": str, "params": dict},
}


def _entry_problem(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "an entry must be a JSON object"
    kind = entry.get("kind")
    needs = _NEEDS.get(kind) if isinstance(kind, str) else None
    if needs is None or kind not in _REDACT:
        return f"an entry of unknown kind: {str(kind)[:40]}"
    for member, types in needs.items():
        value = entry.get(member)
        if not isinstance(value, types) or isinstance(value, bool):
            return f"a {kind} entry needs {member!r} of type {getattr(types, '__name__', types)}"
    if kind == "result" and "result" not in entry:
        return "a result entry needs 'result'"
    return ""


def read_cassette(path: str | os.PathLike[str]) -> list[Entry]:
    """Read a cassette's entries (without its header line).

    Args:
        path: The JSON-lines file.

    Returns:
        The entries, in order.

    Raises:
        FileNotFoundError: There is no such file.
        ValueError: The file is not a cassette of this format.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no cassette at {source}; record one first "
                                "(maas_dyn.testing.record or truenas-dyn --record FILE)")
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{source} is not UTF-8 text ({exc}), so not a cassette") from exc
    try:
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    except RecursionError:  # json.loads fails this way on absurdly nested lines
        raise ValueError(f"{source} holds a line nested too deeply to be a cassette") from None
    except ValueError as exc:
        raise ValueError(f"{source} holds a line that is not JSON ({exc}); a cassette is "
                         "one JSON document per line") from exc
    header = lines[0] if lines else {}
    if not isinstance(header, dict) or header.get("format") != FORMAT \
            or header.get("version") != VERSION:
        raise ValueError(f"{source} is not a version {VERSION} {FORMAT} cassette (its first "
                         f"line is {json.dumps(header)[:120]}); record it again")
    entries: list[Entry] = lines[1:]
    # The replayer indexes entries without checks: every shape problem is reported here.
    for number, entry in enumerate(entries, start=2):
        problem = _entry_problem(entry)
        if problem:
            raise ValueError(f"{source} line {number}: {problem}; record it again")
    called: set[int] = set()
    for entry in entries:
        if entry["kind"] == "call":
            called.add(entry["n"])
        elif entry["kind"] in ("result", "error") and entry["n"] not in called:
            raise ValueError(f"{source} answers call {entry['n']} before it is made")
    return entries


def _shown(entry: Entry | None) -> str:
    if entry is None:
        return "the end of the cassette"
    if entry["kind"] == "call":
        return f"call {entry['method']}({json.dumps(entry['params'])[:200]})"
    return "a new connection"


class WSReplayer:
    """An in-process server that plays a cassette back; its :meth:`open` is an opener.

    Args:
        path: The JSON-lines cassette.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._entries = read_cassette(self.path)
        self._next = 0
        self._lock = threading.Lock()
        self._redactor = Redactor()
        self._requests: dict[int, tuple[PeerLink, Any]] = {}

    def _peek(self) -> Entry | None:
        return self._entries[self._next] if self._next < len(self._entries) else None

    def _mismatch(self, what: str) -> CassetteMismatchError:
        return CassetteMismatchError(
            f"{self.path.name}: {what}, but the cassette expects {_shown(self._peek())} "
            f"(entry {self._next + 1}); record the session again if it changed")

    def open(self, url: str, verify: bool | str, timeout: float) -> PeerLink:
        """Open a connection to the recorded session (an :data:`Opener`).

        Raises:
            CassetteMismatchError: The recording made no new connection here.
        """
        require_jsonrpc(url, "cassette replay")
        with self._lock:
            entry = self._peek()
            if entry is None or entry["kind"] != "connect":
                raise self._mismatch("the client opened a connection")
            self._next += 1
            link = PeerLink(self._answer)
            self._play(link)
            return link

    def _answer(self, link: PeerLink, request_id: Any, method: str, params: list[Any]) -> None:
        if method == PING:
            link.reply(request_id, "pong")
            return
        # Twice, like the recording: a secret learned late in the call (a password after
        # the username it equals) is scrubbed from the whole call.
        self._redactor.params(method, params)
        live = self._redactor.params(method, params)
        with self._lock:
            entry = self._peek()
            if (entry is None or entry["kind"] != "call" or entry["method"] != method
                    or entry["params"] != live):
                raise self._mismatch(f"the client called {method}({json.dumps(live)[:200]})")
            self._next += 1
            self._requests[entry["n"]] = (link, request_id)
            self._play(link)

    def _play(self, link: PeerLink) -> None:
        # Everything the server sent after this call, up to the client's next move.
        while (entry := self._peek()) is not None and entry["kind"] not in _STOPS:
            self._next += 1
            if entry["kind"] in ("job", "notification"):
                link.notify(entry["method"], entry["params"])
                continue
            target, request_id = self._requests[entry["n"]]
            if entry["kind"] == "error":
                target.fail(request_id, entry["error"])
            else:
                target.reply(request_id, entry["result"])

    def assert_all_played(self) -> None:
        """Fail if the client did not make every recorded call.

        Raises:
            CassetteMismatchError: Naming the first call not made.
        """
        with self._lock:
            left = [entry for entry in self._entries[self._next:] if entry["kind"] in _STOPS]
            if left:
                raise self._mismatch(f"the session ended with {len(left)} recorded call(s) "
                                     "or connection(s) not made")
