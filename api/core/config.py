"""Service settings, read from ``ECGSCREEN_*`` environment variables (pydantic-settings).

Every field below maps to ``ECGSCREEN_<FIELD>``; e.g. ``ECGSCREEN_DATA_DIR=/var/lib/ecgscreen``. Lists are given
comma-separated (``ECGSCREEN_API_KEYS=key1,key2``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v).strip() for v in value if str(v).strip()]  # type: ignore[union-attr]


CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Configuration of one service process."""

    model_config = SettingsConfigDict(env_prefix="ECGSCREEN_", extra="ignore")

    data_dir: Path = Field(Path("ecgscreen-data"), description="Jobs database (SQLite) and job files live here.")
    models_dir: Path | None = Field(None, description="Folder of the ONNX models (default: the shipped models/).")
    api_keys: CommaList = Field(default_factory=list, description="Accepted API keys, comma-separated.")
    api_keys_file: Path | None = Field(
        None, description="File of accepted keys, one per line: the key itself or 'sha256:<hex digest>'; re-read "
        "when it changes, so removing a line revokes that key."
    )
    max_upload_mb: float = Field(20.0, gt=0, description="Largest accepted upload (MB); larger → 413.")
    workers: int = Field(1, ge=1, le=64, description="Jobs processed at the same time.")
    queue_size: int = Field(16, ge=1, description="Jobs waiting beyond the running ones; more → 429.")
    wait_timeout_s: float = Field(60.0, gt=0, description="Longest time ?wait=true holds the request.")
    max_attempts: int = Field(2, ge=1, description="A job interrupted this many times is marked failed.")
    retention_days: float = Field(
        30.0, ge=0, description="Finished jobs (rows and files) older than this are erased; 0 = keep forever."
    )
    db_busy_timeout_s: float = Field(
        5.0, gt=0, le=60, description="Longest wait for a SQLite lock held elsewhere; then 503 with Retry-After."
    )
    ray_address: str | None = Field(None, description="Run jobs on this Ray cluster (e.g. ray://head:10001, auto).")
    database_url: str | None = Field(None, description="postgresql://… job store instead of the SQLite file.")
    cors_origins: CommaList = Field(default_factory=list, description="Allowed browser origins; empty = CORS off.")
    webhook_secret: str | None = Field(None, description="HMAC-SHA256 key for webhook signatures; unset = off.")
    webhook_hosts: CommaList = Field(default_factory=list, description="Allowed webhook hosts; empty = any host.")
    webhook_attempts: int = Field(4, ge=1, le=10, description="Webhook deliveries tried before giving up.")
    webhook_backoff_s: float = Field(1.0, ge=0, description="First retry delay (doubles each time).")
    require_models: bool = Field(True, description="/readyz fails while the classifier models are missing.")
    saliency: bool = Field(False, description="Compute classifier saliency maps (slower).")
    threads: int | None = Field(None, ge=1, description="onnxruntime intra-op threads per model.")
    log_level: str = Field("INFO", description="Python logging level.")

    @field_validator("api_keys", "cors_origins", "webhook_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> list[str]:
        return _split(value)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (SQLite is the default when unset)")
        return value or None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
