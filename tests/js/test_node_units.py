"""The page's DOM-free JavaScript modules, tested with Node's own runner (`node --test tests/js/`)."""

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_node_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed: the page's JavaScript unit tests cannot run")
    files = sorted(str(p) for p in HERE.rglob("*.test.mjs"))
    assert files, "no *.test.mjs files under tests/js"
    out = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "# fail 0" in out.stdout
