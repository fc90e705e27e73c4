"""Shared pieces of the fuzzers: settings, the example counter and JSON-ish strategies.

Every fuzzer runs derandomized (hypothesis picks examples from a fixed seed derived from
the test), so CI sees the same examples on every run and a red build is reproducible.
``MAAS_DYN_FUZZ_EXAMPLES`` raises the example count for the long ``reliability`` run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from maas_dyn.errors import MaasDynError

__all__ = ["EXAMPLES", "TRIED", "fuzz_settings", "json_values", "only_typed_errors", "record"]

#: Examples per fuzzer: small by default so the default suite stays fast.
EXAMPLES = int(os.environ.get("MAAS_DYN_FUZZ_EXAMPLES", "60"))

#: Examples tried, by fuzzer name; printed in the terminal summary and written as JSON.
TRIED: Counter[str] = Counter()

F = TypeVar("F", bound=Callable[..., Any])

fuzz_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # The autouse fixture that isolates cache dirs is function scoped; every fuzzer builds
    # its clients with cache=False or its own files, so sharing it across examples is fine.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def record(name: str) -> None:
    """Count one example of fuzzer ``name``."""
    TRIED[name] += 1


def only_typed_errors(action: Callable[[], Any]) -> MaasDynError | None:
    """Run ``action``; a documented error is an acceptable outcome, anything else escapes.

    Returns:
        The typed error raised, or ``None`` when ``action`` succeeded.
    """
    try:
        action()
    except MaasDynError as exc:
        str(exc)  # the message itself must render
        repr(exc)
        return exc
    return None


_scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False) | st.text(max_size=30)
)

#: Any JSON value, kept small.
json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12,
)
