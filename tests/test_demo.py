"""The main job, `maas-dyn demo`, runs end to end against the embedded simulators."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from maas_dyn.demo import main, run_maas_demo, run_truenas_demo


def test_maas_demo_runs_every_step() -> None:
    out = io.StringIO()
    assert run_maas_demo(out, machines=8, deploy=3, speed=500.0) == 0
    text = out.getvalue()
    for heading in ("1. Connect and explore", "2. Commission, then deploy 3 machines",
                    "3. Tag the deployed machines", "4. Network", "5. Power", "Summary"):
        assert heading in text
    assert "98 handlers" in text and "Deploy a machine" in text
    assert "3 succeeded, 0 failed of 3" in text
    assert "tag demo-web: 3 machines" in text
    assert "power off" in text
    assert text.count(" Deployed ") >= 3


def test_truenas_demo_runs_every_step() -> None:
    out = io.StringIO()
    assert run_truenas_demo(out, speed=500.0) == 0
    text = out.getvalue()
    assert "pool.create is a job: True" in text
    assert "100% " in text and "pool tank: ONLINE, healthy=True" in text
    assert "datasets under tank/media: tank/media, tank/media/photos" in text
    assert "alert.list added: [WARNING]" in text


def test_demo_as_a_program() -> None:
    result = subprocess.run([sys.executable, "-m", "maas_dyn.demo", "--machines", "6",
                             "--deploy", "2", "--speed", "500"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "== Summary" in result.stdout
    assert "Traceback" not in result.stderr


def test_main_parses_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--machines", "5", "--deploy", "1", "--speed", "500", "--only", "maas"]) == 0
    assert "deploy 1 machines" in capsys.readouterr().out
