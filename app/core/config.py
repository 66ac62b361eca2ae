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
    compute_timeout: float = Field(10.0, gt=0, le=600, description="Seconds of compute allowed per request.")
    max_body_bytes: int = Field(64_000, ge=1_000, description="Largest request body or WebSocket message.")
    max_websockets: int = Field(64, ge=1, description="Most WebSocket connections at once.")
    ws_send_timeout: float = Field(10.0, gt=0, description="A client that does not read for this long is dropped.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; empty turns CORS off.")

    templates_dir: Path = ROOT / "templates"
    static_dir: Path = ROOT / "static"


@lru_cache
def get_settings() -> Settings:
    return Settings()
