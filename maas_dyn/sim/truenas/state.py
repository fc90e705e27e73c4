"""The in-memory model of the simulated appliance.

Objects live in tables named after their CRUD namespace (``"pool.dataset"``,
``"user"``...). Records are built from the ``returns`` schemas of the served release, so
an object has exactly the keys the real middleware sends for that release; the services
fill in the values. One re-entrant lock guards everything: hold ``state.lock`` while
reading or changing tables and copy what leaves the lock.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.samples import sample

__all__ = ["State"]

Record = dict[str, Any]


class State:
    """Thread-safe container of the simulated objects.

    Args:
        catalog: The served description (record shapes come from it).

    Attributes:
        lock: Guards every attribute below.
        tables: ``{namespace: {key: record}}``.
        config: Singleton objects, e.g. ``{"system.general": {...}}``.
        passwords: ``{username: password}``.
        otp_secrets: ``{username: base32 secret}`` of users with two-factor auth.
        api_key_secrets: ``{key id: secret}``; the key string is ``"<id>-<secret>"``.
        api_key_scram: ``{key id: (secret, ScramKeys)}``: the salt, iterations, StoredKey
            and ServerKey the middleware keeps per key (26.0+), derived on first use.
        files: Contents of simulated files, ``{path: bytes}``.
        booted_at: When the simulated system "booted".
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.lock = threading.RLock()
        self.tables: defaultdict[str, dict[Any, Record]] = defaultdict(dict)
        self.config: dict[str, Record] = {}
        self.passwords: dict[str, str] = {}
        self.otp_secrets: dict[str, str] = {}
        self.api_key_secrets: dict[int, str] = {}
        self.api_key_scram: dict[int, tuple[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.booted_at = datetime.now(timezone.utc)
        self._ids: defaultdict[str, int] = defaultdict(int)
        self._skeletons: dict[str, Record] = {}

    def next_id(self, table: str) -> int:
        """Allocate the next integer id of a table (1, 2, ...).

        Args:
            table: Table name.

        Returns:
            The id.
        """
        with self.lock:
            self._ids[table] += 1
            return self._ids[table]

    def record(self, namespace: str, **fields: Any) -> Record:
        """Build a record shaped like the release's objects of a namespace.

        Args:
            namespace: Namespace whose ``get_instance`` returns describe the object.
            **fields: Values to set; keys the release's schema forbids are left out.

        Returns:
            A new record with every key of the schema.
        """
        return self._build(f"item:{namespace}", self.catalog.item_schema(namespace), fields)

    def result(self, method: str, **fields: Any) -> Record:
        """Build an object shaped like a method's return value.

        Args:
            method: The method whose ``returns`` schema describes the object.
            **fields: Values to set; keys the release's schema forbids are left out.

        Returns:
            A new object with every key of the schema.
        """
        return self._build(f"result:{method}", self.catalog.result_schema(method), fields)

    def result_item(self, method: str, **fields: Any) -> Record:
        """Build one element of a method's list result (e.g. an alert of ``alert.list``).

        Args:
            method: The method whose ``returns`` schema is a list of objects.
            **fields: Values to set; keys the release's schema forbids are left out.

        Returns:
            A new object with every key of the element schema.
        """
        return self._build(f"element:{method}", self.catalog.element_schema(method), fields)

    def _build(self, key: str, schema: dict[str, Any], fields: dict[str, Any]) -> Record:
        with self.lock:
            if key not in self._skeletons:
                skeleton = sample(schema, full=True)
                self._skeletons[key] = skeleton if isinstance(skeleton, dict) else {}
            record = copy.deepcopy(self._skeletons[key])
        allowed = schema.get("properties") if schema.get("additionalProperties") is False else None
        record.update({name: value for name, value in fields.items()
                       if allowed is None or name in allowed})
        return record

    def rows(self, table: str) -> list[Record]:
        """Copy every record of a table, in insertion order.

        Args:
            table: Table name.

        Returns:
            Deep copies, safe to hand out after the lock is released.
        """
        with self.lock:
            return copy.deepcopy(list(self.tables[table].values()))
