"""Object storage: a real round trip (write, read back, compare, delete).

Two stores: a local directory (the demo platform's media directory, a mounted volume)
and any S3-compatible endpoint through boto3 (AWS S3, MinIO, Ceph, R2...). boto3 is an
optional dependency (``pip install 'fanzwatch[s3]'``), imported only when an S3 store is
built.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ...core.errors import ConfigError, DependencyMissingError
from ...core.models import HealthStatus
from .._check import CheckResult, ComponentType, JsonValue
from ._base import BaseCheck, BlockingCalls, elapsed_since

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectStore(Protocol):
    """The three blocking operations a round trip needs; the check runs them in a thread."""

    backend: str

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def describe(self) -> str:
        """Where the store is, for outputs (no credentials)."""
        ...


class LocalDirectoryStore:
    """Files in a directory; each write is fsynced so a failing disk shows up."""

    backend = "local"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        if not self.directory.is_dir():
            kind = "is not a directory" if self.directory.exists() else "does not exist"
            raise FileNotFoundError(f"{self.directory} {kind}")
        return self.directory / key

    def put(self, key: str, data: bytes) -> None:
        with self._path(key).open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink()

    def describe(self) -> str:
        return f"directory {self.directory}"


class S3ObjectStore:
    """A bucket on an S3-compatible endpoint, through boto3 (path-style for custom endpoints).

    Credentials come from the arguments or, when they are ``None``, from boto3's usual
    chain (environment, profile, instance role). Retries are off and the timeouts short:
    the health check wants the truth about now, not a success after three attempts.
    """

    backend = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        timeout: float = 5.0,
    ) -> None:
        if not bucket:
            raise ConfigError("S3 storage check: bucket is required", setting="bucket")
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise DependencyMissingError("boto3 (for the S3 storage check)", "pip install 'fanzwatch[s3]'") from None
        self.bucket, self.endpoint_url, self.prefix = bucket, endpoint_url, prefix
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": 1},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        # Built here, not per run: creating a boto3 client costs tens of milliseconds.
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def get(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"bucket {self.bucket}{where}"

    def close(self) -> None:
        self._client.close()


class StorageCheck(BaseCheck):
    """Writes a small random object, reads it back, compares, deletes it.

    Each step that fails says so (``write to directory /data/media failed: ...``), and a
    read that returns other bytes than were written fails the check: a store that
    silently corrupts data is not healthy.

    >>> StorageCheck("media", LocalDirectoryStore("/var/lib/fanz/media"))
    """

    component_type = ComponentType.DATASTORE

    def __init__(
        self,
        name: str,
        store: ObjectStore,
        *,
        size: int = 64,
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        self.store = store
        self.size = size
        self._blocking = BlockingCalls()

    async def check(self) -> CheckResult:
        started = time.perf_counter()
        problem = await self._blocking.run(self._round_trip)
        latency = elapsed_since(started)
        details: dict[str, JsonValue] = {"backend": self.store.backend, "bytes": self.size}
        if problem:
            return CheckResult(HealthStatus.FAIL, latency, "s", output=problem, details=details)
        return CheckResult(HealthStatus.PASS, latency, "s", details=details)

    def _round_trip(self) -> str:
        """Empty when the round trip worked, else what went wrong."""
        key = f".fanzwatch-health-{self.name}-{uuid.uuid4().hex}"
        data = os.urandom(self.size)
        where = self.store.describe()
        try:
            self.store.put(key, data)
        except Exception as exc:
            return f"write to {where} failed: {_reason(exc)}"
        problem = ""
        try:
            read = self.store.get(key)
            if read != data:
                problem = f"read back {len(read)} bytes from {where} that differ from the {len(data)} written"
        except Exception as exc:
            problem = f"read from {where} failed: {_reason(exc)}"
        try:
            self.store.delete(key)
        except Exception as exc:
            problem = problem or f"delete from {where} failed: {_reason(exc)}"
        return problem

    async def aclose(self) -> None:
        close = getattr(self.store, "close", None)
        if callable(close):
            await self._blocking.run(close)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
