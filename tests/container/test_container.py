"""The Dockerfile builds an image that serves Loss Lab, as a non-root user.

Two ways to run it, chosen at run time:

* A machine with a Docker engine (``docker info`` succeeds) runs exactly the README's
  lines, ``docker build -t loss-lab .`` and ``docker run --rm -d -p 8000:8000 loss-lab``
  (another host port only if 8000 is already taken).
* Otherwise (CI here: no Docker daemon, no registry), with buildah, podman and debootstrap
  installed and running as root: a stand-in base image is made once from a minimal Debian
  (``localhost/loss-lab-base``, kept for later runs; ``podman rmi localhost/loss-lab-base``
  makes the next run build it afresh), the real Dockerfile is built on it
  with ``buildah build --isolation chroot``, and the image's own CMD is run with
  ``buildah run --isolation chroot``, which shares the host network, on a free port.

Either way the test gets 200 from /healthz, the page (and each file it loads) and one
/api/run, checks that the server process is not root, and runs the image's HEALTHCHECK.
It is skipped, saying why, where neither docker nor buildah is installed; deselect it
with ``-m "not container"``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from testkit import free_port

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "loss-lab"
BASE_IMAGE = "localhost/loss-lab-base"
# The README's lines, run as they are on a machine with a Docker engine.
DOCKER_BUILD = ["docker", "build", "-t", "loss-lab", "."]
DOCKER_RUN = ["docker", "run", "--rm", "-d", "-p", "8000:8000", "loss-lab"]
BUILDAH_BUILD = [
    "buildah", "build", "--isolation", "chroot",
    "--layers",            # keep layers, so a re-run after a code change reuses the dependency layer
    "--format", "docker",  # the OCI format drops HEALTHCHECK
    "--build-arg", f"PYTHON_IMAGE={BASE_IMAGE}", "--pull=never",
    "-t", IMAGE, ".",
]
DEBOOTSTRAP_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

RUN_BODY = {
    "surface": {"name": "quadratic", "params": {"lambda_1": 1, "lambda_2": 10, "rotation": 30}},
    "optimizers": [{"name": "momentum", "params": {"lr": 0.05, "momentum": 0.9}}],
    "start": [-1.5, 2.0],
    "steps": 200,
    "tol": 0,
    "seed": 0,
}
STARTUP_SECONDS = 90


# ---------------------------------------------------------------- helpers


def _sh(cmd, *, timeout=120, check=True, **kw) -> subprocess.CompletedProcess:
    """Run a command, text output captured; on failure, fail with its output's tail."""
    r = subprocess.run(cmd, cwd=kw.pop("cwd", ROOT), capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        out = (r.stdout + r.stderr)[-4000:]
        pytest.fail(f"`{' '.join(map(str, cmd))}` exited {r.returncode}:\n{out}")
    return r


def _http(method: str, url: str, body: dict | None = None, timeout: float = 60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True




def _wait_healthy(base: str, alive, describe) -> None:
    """Poll /healthz until it answers 200; fail early if the server has gone."""
    deadline = time.monotonic() + STARTUP_SECONDS
    last = None
    while time.monotonic() < deadline:
        if not alive():
            pytest.fail(f"the container stopped before /healthz answered:\n{describe()}")
        try:
            status, _, _ = _http("GET", base + "/healthz", timeout=5)
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as e:  # refused while starting, reset, timeout
            last = repr(e)
        time.sleep(0.5)
    pytest.fail(f"/healthz did not answer 200 within {STARTUP_SECONDS}s (last: {last}):\n{describe()}")


def _check_endpoints(base: str) -> None:
    status, _, body = _http("GET", base + "/healthz")
    assert status == 200, body[:500]
    assert json.loads(body) == {"status": "ok"}

    status, headers, body = _http("GET", base + "/")
    assert status == 200, body[:500]
    assert headers.get("content-type", "").startswith("text/html")
    page = body.decode("utf-8", "replace")
    # No network at run time: every script, stylesheet and icon the page loads comes from
    # the container itself (Plotly.js from the installed package), and each one answers 200.
    srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", page, flags=re.I)
    srcs += re.findall(r"<link[^>]*\bhref\s*=\s*[\"']([^\"']+)[\"']", page, flags=re.I)
    assert srcs, "the page loads no scripts or stylesheets"
    here = urlparse(base).netloc
    external = [s for s in srcs if urlparse(urljoin(base + "/", s)).netloc != here]
    assert not external, f"the page loads files from the network: {external}"
    for src in srcs:
        status, _, sbody = _http("GET", urljoin(base + "/", src))
        assert status == 200, f"{src}: HTTP {status}"
        assert sbody, f"{src}: empty"

    status, _, body = _http("POST", base + "/api/run", RUN_BODY)
    assert status == 200, body[:1000]
    runs = json.loads(body)["runs"]
    assert isinstance(runs, list) and len(runs) == 1


def _uids(status_text: str) -> list[int]:
    """Real, effective, saved and filesystem uids from a /proc/<pid>/status text."""
    for line in status_text.splitlines():
        if line.startswith("Uid:"):
            return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no Uid line in:\n{status_text}")


def _healthcheck_argv(config: dict) -> list[str]:
    hc = config.get("Healthcheck") or {}
    test = hc.get("Test") or []
    assert test and test[0] in ("CMD", "CMD-SHELL"), f"the image has no HEALTHCHECK: {hc}"
    assert "curl" not in " ".join(test), "the HEALTHCHECK must not need curl"
    assert "/healthz" in " ".join(test)
    return list(test[1:]) if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]


def _check_image_config(config: dict) -> None:
    user = (config.get("User") or "").split(":")[0]
    assert user not in ("", "0", "root"), f"the image runs as root (USER {user!r})"
    env = dict(e.split("=", 1) for e in config.get("Env") or [])
    assert env.get("LOSSLAB_HOST") == "0.0.0.0", env
    assert env.get("LOSSLAB_PORT") == "8000", env
    assert "8000/tcp" in (config.get("ExposedPorts") or {})


def _docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# ---------------------------------------------------------------- Docker engine


def _test_with_docker() -> None:
    _sh(DOCKER_BUILD, timeout=1800)
    inspect = json.loads(_sh(["docker", "image", "inspect", IMAGE]).stdout)[0]
    config = inspect["Config"]
    _check_image_config(config)
    health_argv = _healthcheck_argv(config)

    run = list(DOCKER_RUN)
    port = 8000
    if not _port_free(port):
        port = free_port()
        run[run.index("8000:8000")] = f"{port}:8000"
        warnings.warn(f"port 8000 is taken here; ran `{' '.join(run)}` instead of the README's line")
    cid = _sh(run).stdout.strip()
    base = f"http://127.0.0.1:{port}"
    ok = False
    try:
        def alive() -> bool:
            r = _sh(["docker", "inspect", "-f", "{{.State.Running}}", cid], check=False)
            return r.returncode == 0 and r.stdout.strip() == "true"

        def describe() -> str:
            r = _sh(["docker", "logs", cid], check=False)
            return (r.stdout + r.stderr)[-4000:]

        _wait_healthy(base, alive, describe)
        _check_endpoints(base)
        # The CMD is in exec form, so the server is PID 1 in the container.
        status_text = _sh(["docker", "exec", cid, "cat", "/proc/1/status"]).stdout
        uids = _uids(status_text)
        assert all(u != 0 for u in uids), f"the server runs as root: Uid {uids}"
        r = _sh(["docker", "exec", cid, *health_argv], check=False)
        assert r.returncode == 0, f"HEALTHCHECK failed: {r.stdout}{r.stderr}"
        ok = True
    finally:
        if not ok:
            print(_sh(["docker", "logs", cid], check=False).stdout[-4000:])
        _sh(["docker", "stop", "-t", "10", cid], check=False, timeout=60)


# ---------------------------------------------------------------- buildah, no engine


def _ensure_base_image() -> None:
    """The stand-in for python:3.12-slim: a minimal Debian with python3, made once."""
    if subprocess.run(["podman", "image", "exists", BASE_IMAGE]).returncode == 0:
        return
    with tempfile.TemporaryDirectory(prefix="loss-lab-base-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "root"
        _sh(["debootstrap", "--variant=minbase", f"--include={DEBOOTSTRAP_PACKAGES}",
             "bookworm", str(root)], timeout=1800)
        # What debootstrap downloaded is not needed in the image.
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for p in (root / cache).glob("*"):
                if p.is_file():
                    p.unlink()
        # pip inside the build trusts what this machine trusts.
        if CA_BUNDLE.is_file():
            dest = root / CA_BUNDLE.relative_to("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(CA_BUNDLE, dest)
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(["podman", "import", "-", BASE_IMAGE], stdin=tar.stdout,
                             capture_output=True, text=True, timeout=600)
        tar.stdout.close()
        assert tar.wait() == 0, "tar of the debootstrapped root failed"
        assert imp.returncode == 0, f"podman import failed:\n{imp.stderr[-4000:]}"


def _image_id(name: str) -> str | None:
    r = subprocess.run(["buildah", "images", "-q", "--no-trunc", name], capture_output=True, text=True)
    return r.stdout.split()[0] if r.returncode == 0 and r.stdout.split() else None


def _proc_children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d.name))
    return kids


def _descendants(pid: int) -> list[int]:
    kids, out, todo = _proc_children(), [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _listening_on_all(port: int) -> bool:
    """True if some socket listens on 0.0.0.0:port (or [::]:port)."""
    want = f":{port:04X}"
    for table, anyaddr in (("/proc/net/tcp", "00000000"), ("/proc/net/tcp6", "0" * 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and local == anyaddr + want:
                return True
    return False


def _test_with_buildah() -> None:
    missing = [t for t in ("buildah", "podman", "debootstrap") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"no Docker engine, and {', '.join(missing)} not installed "
                    "(apt-get install buildah podman debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("no Docker engine, and the buildah/debootstrap route needs root")

    _ensure_base_image()
    old_id = _image_id(IMAGE)
    _sh(BUILDAH_BUILD, timeout=1800)
    new_id = _image_id(IMAGE)
    if old_id and old_id != new_id:  # drop the image this build replaced, when nothing else needs it
        subprocess.run(["buildah", "rmi", old_id], capture_output=True)

    info = json.loads(_sh(["buildah", "inspect", "--type", "image", IMAGE]).stdout)
    config = info["Docker"]["config"]
    _check_image_config(config)
    health_argv = _healthcheck_argv(config)
    cmd = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    assert cmd == ["/opt/venv/bin/python", "-m", "app"], cmd

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ctr = f"loss-lab-test-{os.getpid()}-{int(time.time())}"
    _sh(["buildah", "from", "--pull=never", "--name", ctr, IMAGE])
    log = tempfile.TemporaryFile(mode="w+")
    proc = None
    try:
        proc = subprocess.Popen(
            ["buildah", "run", "--isolation", "chroot", "--env", f"LOSSLAB_PORT={port}", ctr, "--", *cmd],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def describe() -> str:
            log.seek(0)
            return log.read()[-4000:]

        _wait_healthy(base, lambda: proc.poll() is None, describe)
        _check_endpoints(base)
        assert _listening_on_all(port), f"the server does not listen on 0.0.0.0:{port}"

        servers = [p for p in _descendants(proc.pid) if _cmdline(p) == cmd]
        assert servers, f"no `{' '.join(cmd)}` process under buildah run {proc.pid}"
        for pid in servers:
            uids = _uids(Path(f"/proc/{pid}/status").read_text())
            assert all(u != 0 for u in uids), f"the server (pid {pid}) runs as root: Uid {uids}"

        r = _sh(["buildah", "run", "--isolation", "chroot", "--env", f"LOSSLAB_PORT={port}",
                 ctr, "--", *health_argv], check=False, timeout=60)
        assert r.returncode == 0, f"HEALTHCHECK failed: {r.stdout}{r.stderr}"
    finally:
        if proc is not None and proc.poll() is None:
            for pid in [p for p in _descendants(proc.pid) if _cmdline(p) == cmd]:
                try:
                    os.kill(pid, signal.SIGTERM)  # uvicorn shuts down cleanly on SIGTERM
                except ProcessLookupError:
                    pass
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this test started
                proc.wait(timeout=15)
        log.close()
        subprocess.run(["buildah", "rm", ctr], capture_output=True)


# ---------------------------------------------------------------- the test


def test_image_builds_and_serves_as_non_root():
    if _docker_engine():
        _test_with_docker()
    elif shutil.which("buildah"):
        _test_with_buildah()
    else:
        pytest.skip("container test skipped: neither a Docker engine (`docker info`) "
                    "nor buildah is available on this machine")
