"""The receiver's gzip step: every member of a stream, the total bounded, truncation refused."""

from __future__ import annotations

import gzip

import pytest

from fanzwatch.telemetry.receiver import OtlpReceiver, _Refusal


def test_a_multi_member_body_is_read_whole() -> None:
    assert OtlpReceiver()._gunzip(gzip.compress(b"AAAA") + gzip.compress(b"BBBB")) == b"AAAABBBB"


def test_the_limit_counts_every_member_and_truncation_is_refused() -> None:
    receiver = OtlpReceiver(max_decompressed_bytes=6)
    with pytest.raises(_Refusal) as over:
        receiver._gunzip(gzip.compress(b"AAAA") + gzip.compress(b"BBBB"))
    assert over.value.status == 413
    with pytest.raises(_Refusal) as cut:
        receiver._gunzip(gzip.compress(b"AAAA")[:-3])
    assert cut.value.status == 400
