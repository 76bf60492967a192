"""The README's walk-through (docs/walkthrough.sh, shown whole in the README) runs top to
bottom against a real `kinpass serve`, so it cannot rot."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.serving import serve_kinpass

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "walkthrough.sh"


def test_the_readme_shows_the_script_as_it_is():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(#!/usr/bin/env bash\n.*?)```", readme, re.S)
    assert blocks == [SCRIPT.read_text()]


def test_the_walkthrough_runs_against_a_live_server(tmp_path):
    with serve_kinpass(tmp_path) as (base, _, env, kinpass, _):
        result = subprocess.run(
            ["bash", str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=300,
            check=False, env={**env, "API": base, "OUTBOX": str(tmp_path / "outbox.jsonl"),
                              "KINPASS": " ".join(kinpass)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "walkthrough: case " in result.stdout and " completed" in result.stdout
    assert "registry_match clear" in result.stdout
