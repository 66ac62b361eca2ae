"""LOSSLAB_WORKERS: the number of uvicorn worker processes, read by every way of starting the server."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(monkeypatch):
    """What uvicorn.run is asked for (nothing is started)."""
    import uvicorn

    from app.core.config import get_settings

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv("LOSSLAB_WORKERS", "3")
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_python_m_app_starts_losslab_workers_processes(served):
    from app.__main__ import main

    main()
    [(app, kw)] = served
    assert app == "app.main:app" and kw["workers"] == 3  # an import string: each worker imports the app


def test_losslab_serve_starts_losslab_workers_processes(served):
    from losslab.cli import main

    assert main(["serve", "--port", "8123"]) == 0
    [(app, kw)] = served
    assert app == "app.main:app" and kw["workers"] == 3 and kw["port"] == 8123


def test_a_bad_worker_count_is_refused(monkeypatch):
    from pydantic import ValidationError

    from app.core.config import Settings

    for bad in ("0", "-1", "two", "65"):
        monkeypatch.setenv("LOSSLAB_WORKERS", bad)
        with pytest.raises(ValidationError, match="workers"):
            Settings()


def test_scripts_serve_and_the_image_start_python_m_app():
    # ./scripts/serve and the Docker image both run `python -m app`, which reads LOSSLAB_WORKERS (above)
    assert "-m app" in (ROOT / "scripts" / "serve").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["/opt/venv/bin/python", "-m", "app"]' in dockerfile
    assert "LOSSLAB_WORKERS=1" in dockerfile  # the image's default, changed with -e LOSSLAB_WORKERS=N
