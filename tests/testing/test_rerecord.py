"""Re-recording the cassettes (maas_dyn/testing/rerecord.py) gives cassettes that replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maas_dyn.maas import Client as MAASClient
from maas_dyn.testing import replay, rerecord
from maas_dyn.testing.scenarios import MAAS_DEPLOY, TRUENAS_POOL_CREATE, TRUENAS_USER
from maas_dyn.truenas import Client as TrueNASClient

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def kinds(path: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in path.read_text().splitlines()]


def test_rerecording_writes_cassettes_that_replay(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert rerecord.main(["--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("recorded ") == 2
    maas = MAASClient.from_release(rerecord.MAAS_RELEASE, url="http://127.0.0.1:9/MAAS/",
                                   api_key="a:b:c", cache=False)
    with replay(maas, tmp_path / MAAS_DEPLOY.cassette):
        assert MAAS_DEPLOY.run(maas)["status_name"] == "Deployed"
    recorded = tmp_path / TRUENAS_POOL_CREATE.cassette
    with TrueNASClient.from_release(rerecord.TRUENAS_RELEASE, url="ws://127.0.0.1:9/api/current",
                                    username=TRUENAS_USER, password="anything",
                                    cache=False) as nas, replay(nas, recorded):
        assert TRUENAS_POOL_CREATE.run(nas)["name"] == "tank"
    # The same calls as the checked-in cassette (the number of job events may differ).
    calls = [kind for kind in kinds(recorded) if kind != "job"]
    assert calls == [k for k in kinds(CASSETTES / TRUENAS_POOL_CREATE.cassette) if k != "job"]


def test_unknown_dialects_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        rerecord.main(["vmware"])
    assert "unknown dialect vmware" in capsys.readouterr().err
