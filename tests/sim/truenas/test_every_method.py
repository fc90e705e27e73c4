"""Every method of each shipped description (25.10 first of all), called once with minimal
valid params.

Each answers either a modelled reply (a result, or a method-level error with a proper
shape) or the ENOTSUP CallError; none is refused by the validator, crashes the server or
hangs it.
"""

from __future__ import annotations

import errno

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.samples import sample_params
from maas_dyn.sim.truenas.schema import validate, validate_params

from .conftest import RpcClient

# Run last: they end the session's login.
_LAST = ("auth.logout",)
# 25.04 still documents some results with the pre-pydantic schemas, which describe them
# loosely (a null exc_info typed as an object); results are checked from 25.10 on.
_LOOSE_RETURNS = ("25.04",)


def _order(names: list[str]) -> list[str]:
    return sorted(names, key=lambda name: (name in _LAST, name))


@pytest.mark.parametrize("release", Catalog.releases())
def test_minimal_params_are_valid(release: str) -> None:
    for spec in Catalog(release).methods.values():
        _, problems = validate_params(spec.accepts, sample_params(spec.accepts))
        assert problems == [], (spec.name, problems)


@pytest.mark.parametrize("release", Catalog.releases())
def test_every_method_answers(release: str) -> None:
    with TrueNASSimulator(version=release, speed=200.0) as sim:
        admin = RpcClient(sim.url)
        admin.login(sim)
        _call_everything(sim, admin, Catalog(release))
        admin.close()


def _call_everything(sim: TrueNASSimulator, admin: RpcClient, catalog: Catalog) -> None:
    for name in _order(list(catalog.methods)):
        spec = catalog.methods[name]
        reply = admin.request(name, *sample_params(spec.accepts))
        if name not in sim.modelled_methods:  # hand-written models and generic stores
            data = reply["error"]["data"]
            assert reply["error"]["code"] == -32001, (name, reply)
            assert (data["error"], data["errname"]) == (errno.ENOTSUP, "ENOTSUP")
            assert data["reason"] == f"[ENOTSUP] {name} is not modelled by the maas_dyn simulator"
            continue
        if "error" in reply:
            # A method-level failure: never "no such method", never a malformed reply.
            assert reply["error"]["code"] in (-32001, -32602), (name, reply)
            assert set(reply["error"]["data"]) >= {"error", "errname", "reason", "extra"}
            continue
        if not spec.job and spec.returns and catalog.release not in _LOOSE_RETURNS:
            assert validate(spec.returns[0], _plain(reply["result"])) == [], (name, reply)
    admin.login(sim)  # auth.logout ran last
    assert admin.call("core.ping") == "pong"
    assert sim.call_counts["core.ping"] == 2


def _plain(value: object) -> object:
    # Timestamps travel as {"$date": ms}; the schemas describe them as strings.
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return "1970-01-01T00:00:00"
        if set(value) == {"$set"}:
            return value["$set"]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
