"""`schemathesis run` against a live server: the API answers as its /openapi.json says, and never with a 5xx.

The command an outside fuzzer would run, with the three checks of the hardening issue:
``not_a_server_error`` (no 5xx), ``response_schema_conformance`` (every body matches the schema
declared for its status) and ``status_code_conformance`` (every status is documented). Its examples,
coverage (boundary values of every constraint) and fuzzing phases run against a real uvicorn server
on loopback; generation is deterministic and bounded (MAX_EXAMPLES per operation), so every run
sends the same requests. The server runs with smaller caps so that the run stays about two minutes:
the schema is printed from the same settings, so the caps it tests are the ones it documents.

tests/reliability/test_fuzz_openapi.py fuzzes in-process, steering bodies onto real names; this one
is the outside view, where the schema itself must be right.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .server import Server

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance"
MAX_EXAMPLES = 25
CAPS = {"LOSSLAB_COMPUTE_TIMEOUT": "0.5", "LOSSLAB_MAX_STEPS": "2000", "LOSSLAB_MAX_GRID": "100"}
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed (pip install -e .[test])")
def test_schemathesis_run_finds_no_failures_and_no_schema_errors(tmp_path):
    junit = tmp_path / "schemathesis.xml"
    with Server(**CAPS) as server:
        run = subprocess.run(
            [str(SCHEMATHESIS), "run", f"{server.url}/openapi.json", "--checks", CHECKS, "--max-examples",
             str(MAX_EXAMPLES), "--generation-deterministic", "--phases", "examples,coverage,fuzzing", "--workers", "2",
             "--no-color", "--request-timeout", "30", "--report", "junit", "--report-junit-path", str(junit)],
            capture_output=True, text=True, timeout=900)
        log = server.log()
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    suites = ET.parse(junit).getroot()
    cases = list(suites.iter("testcase"))
    bad = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    assert len(cases) >= 10 and not bad, (bad, out[-4000:])
    assert "Test cases:" in out and " passed" in out
    assert "Traceback" not in log, log[-3000:]
