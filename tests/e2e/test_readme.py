"""The README's Python example runs as written, against the bundled sample corpus."""

import re
import subprocess
import sys
import uuid

from tests.e2e.conftest import REPO, clean_env


def readme_python_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert blocks, "README.md must hold a Python example"
    return blocks[0]


def test_readme_example_runs(pg_url: str, tmp_path):
    env = clean_env(
        QUARRY_DATABASE_URL=pg_url,
        QUARRY_DATABASE__SCHEMA_NAME=f"readme_{uuid.uuid4().hex[:8]}",
        QUARRY_DATA_DIR=str(tmp_path / "data"),
    )
    result = subprocess.run(
        [sys.executable, "-c", readme_python_example()], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.match(r"ingested \d+ \(\d+ new, 0 updated\), unchanged 0, refused 0", lines[0]), lines[0]
    assert "Dana Okafor" in lines[1]
    citations = [line for line in lines if re.match(r"^\[\d\] .+ /.+:\d+-\d+$", line)]
    assert len(citations) >= 2 and any("payments-core.md" in line for line in citations), result.stdout
    assert re.match(r"answered=True partial=False stopped_by=None hops=[123] usd=0\.0000$", lines[-2]), lines[-2]
    assert lines[-1].startswith("Who leads Payments Core? -> ") and "Dana Okafor" in lines[-1], lines[-1]
