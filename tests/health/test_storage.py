"""Storage round trips on a local directory and on a real S3-compatible server (moto's)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import boto3
import pytest
from prometheus_client import CollectorRegistry

from fanzwatch.core import HealthStatus
from fanzwatch.health import CheckResult, HealthCheckRunner, LocalDirectoryStore, S3ObjectStore, StorageCheck

from ._servers import MotoS3, ResettingServer, refused_port


async def run_one(check: StorageCheck) -> CheckResult:
    runner = HealthCheckRunner([check], registry=CollectorRegistry())
    try:
        return (await runner.check(check.name)).result
    finally:
        await runner.stop()


class CorruptingStore(LocalDirectoryStore):
    """A directory whose reads come back altered: silent corruption must fail the check."""

    def get(self, key: str) -> bytes:
        return bytes(b ^ 1 for b in super().get(key))


async def test_local_round_trip_leaves_nothing_behind(tmp_path: Path) -> None:
    result = await run_one(StorageCheck("media", LocalDirectoryStore(tmp_path)))
    assert result.status is HealthStatus.PASS
    assert result.details == {"backend": "local", "bytes": 64}
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", ["missing", "file"])
async def test_local_directory_that_is_not_there(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "media"
    if kind == "file":
        target.write_text("not a directory")
    result = await run_one(StorageCheck("media", LocalDirectoryStore(target)))
    expected = "does not exist" if kind == "missing" else "is not a directory"
    assert result.status is HealthStatus.FAIL
    assert result.output == f"write to directory {target} failed: {target} {expected}"


async def test_data_read_back_differently_fails(tmp_path: Path) -> None:
    result = await run_one(StorageCheck("media", CorruptingStore(tmp_path), size=16))
    assert result.status is HealthStatus.FAIL
    assert result.output == f"read back 16 bytes from directory {tmp_path} that differ from the 16 written"
    assert os.listdir(tmp_path) == []  # deleted all the same


def _s3_store(moto_s3: MotoS3, bucket: str, **kwargs: object) -> S3ObjectStore:
    return S3ObjectStore(
        bucket,
        endpoint_url=moto_s3.endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        **kwargs,  # type: ignore[arg-type]
    )


def _admin(moto_s3: MotoS3):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=moto_s3.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


async def test_s3_round_trip_against_a_real_s3_server(moto_s3: MotoS3) -> None:
    bucket = f"fanz-media-{uuid.uuid4().hex[:8]}"
    admin = _admin(moto_s3)
    admin.create_bucket(Bucket=bucket)
    result = await run_one(StorageCheck("media_s3", _s3_store(moto_s3, bucket, prefix="health/")))
    assert result.status is HealthStatus.PASS
    assert result.details == {"backend": "s3", "bytes": 64}
    assert admin.list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # written, read, deleted


async def test_s3_missing_bucket_fails_with_the_servers_error(moto_s3: MotoS3) -> None:
    result = await run_one(StorageCheck("media_s3", _s3_store(moto_s3, "no-such-bucket-here")))
    assert result.status is HealthStatus.FAIL
    assert result.output == (
        f"write to bucket no-such-bucket-here at {moto_s3.endpoint} failed: An error occurred (NoSuchBucket) "
        "when calling the PutObject operation (reached max retries: 0): The specified bucket does not exist"
    )


async def test_s3_endpoint_down_fails_before_its_timeout() -> None:
    with refused_port() as port:
        endpoint = f"http://127.0.0.1:{port}"
        store = S3ObjectStore("fanz-media", endpoint_url=endpoint, access_key_id="x", secret_access_key="y")
        result = await run_one(StorageCheck("media_s3", store, timeout=10))
    assert result.status is HealthStatus.FAIL
    assert result.output.startswith(  # the refusal, not "timed out after 10 s"
        f"write to bucket fanz-media at {endpoint} failed: "
        f'Could not connect to the endpoint URL: "{endpoint}/fanz-media/.fanzwatch-health-media_s3-'
    )


async def test_s3_connection_reset_is_not_retried(resetting: ResettingServer) -> None:
    # botocore's default would retry a reset connection after a back-off of at most 1 s:
    # well within the check's 10 s, so a retry would show as a second accepted connection.
    endpoint = f"http://127.0.0.1:{resetting.port}"
    store = S3ObjectStore("fanz-media", endpoint_url=endpoint, access_key_id="x", secret_access_key="y")
    result = await run_one(StorageCheck("media_s3", store, timeout=10))
    assert result.status is HealthStatus.FAIL
    assert result.output.startswith(f"write to bucket fanz-media at {endpoint} failed: ")
    assert "timed out" not in result.output
    assert resetting.accepted == 1
