"""The benchmark's driver: run_fuzz tries every target, counts outcomes, prints nothing, and leaves
the process as it found it (working folder, QUARRY_* variables, no tripwires)."""

import os
from pathlib import Path

from quarry.agent.components import Components
from tests.support.fuzz_inputs import FuzzReport, run_fuzz


def test_run_fuzz_counts_every_target_without_crashes_and_restores_the_process(capsys):
    cwd, env, init = Path.cwd(), {k: v for k, v in os.environ.items() if k.startswith("QUARRY_")}, Components.__init__
    report = run_fuzz(12, seed=1)
    assert isinstance(report, FuzzReport)
    assert [t.target for t in report.targets] == ["documents", "metadata", "config", "cli"]
    assert all(t.tried == 12 == t.accepted + t.refused + t.crashes for t in report.targets)
    assert report.crashes == 0, report.crash_descriptions
    assert report.table().splitlines()[-1] == "bad inputs tried: 48, crashes: 0"
    assert capsys.readouterr() == ("", "")
    assert Path.cwd() == cwd and {k: v for k, v in os.environ.items() if k.startswith("QUARRY_")} == env
    assert Components.__init__ is init
