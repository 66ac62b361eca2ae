"""Settings from the environment (prefix LOSSLAB_), with safe defaults."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine import defaults

ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOSSLAB_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to bind; the container sets 0.0.0.0.")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    max_steps: int = Field(defaults.MAX_STEPS, ge=1, le=1_000_000, description="Most steps one run may take.")
    max_optimizers: int = Field(defaults.MAX_OPTIMIZERS, ge=1, le=64, description="Most optimizers in one request.")
    max_grid: int = Field(400, ge=10, le=2000, description="Largest grid side for contour data.")
    max_sweep_cells: int = Field(40_000, ge=1, le=1_000_000)
    max_sweep_work: int = Field(10_000_000, ge=1, description="Most cell-steps (cells × steps) in one sweep.")
    max_tune_work: int = Field(40_000_000, ge=1, description="Most cell-steps (grid cells × starts × steps, "
                               "summed over the race) in one tuning.")
    compute_timeout: float = Field(10.0, gt=0, le=600, description="Seconds of compute allowed per request.")
    max_body_bytes: int = Field(64_000, ge=1_000, description="Largest request body or WebSocket message.")
    max_websockets: int = Field(64, ge=1, description="Most WebSocket connections at once.")
    ws_send_timeout: float = Field(10.0, gt=0, description="A client that does not read for this long is dropped.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; empty turns CORS off.")
    # --- hardening (app.core.hosts, app.core.limits, app.core.server) ---
    allowed_hosts: list[str] = Field(default_factory=list, description=(
        "Host names the server answers to besides its own (localhost, *.localhost and any IP address), e.g. "
        '["losslab.school.example"]; "*" answers to any. Other Host headers get a 400 (DNS rebinding).'))
    allowed_origins: list[str] = Field(default_factory=list, description=(
        "Web origins, besides the server's own, whose pages may open WS /ws/run, e.g. "
        '["http://class.example:8000"]. CORS_ORIGINS are allowed too.'))
    max_json_depth: int = Field(32, ge=4, le=500, description="Deepest nesting of a JSON body or message.")
    max_header_bytes: int = Field(32 * 1024, ge=1024, le=1 << 20, description="Largest request line plus headers.")
    request_timeout: float = Field(10.0, gt=0, le=600, description=(
        "Seconds a client has to send a request's line and headers, and again its body; then 408."))
    max_connections: int = Field(1000, ge=1, description="Most open connections and tasks; then 503.")
    grid_cache_bytes: int = Field(64 << 20, ge=0, description="Bytes of rendered grids kept for reuse.")
    formula_queue: int = Field(8, ge=0, le=1000, description=(
        "Typed formulas that may wait for a free formula worker; more get a 503 with Retry-After."))
    frame_ancestors: str = Field("'self'", description="Pages that may show Loss Lab in an <iframe> (CSP "
                                 "frame-ancestors): 'self', 'none', or origins such as https://course.example.edu, "
                                 "separated by spaces.")

    templates_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"


@lru_cache
def get_settings() -> Settings:
    return Settings()
