"""Built-in checks, each doing for real what its name says."""

from ._base import BaseCheck, BlockingCalls
from .http import HttpCheck, redact_url
from .redis import RedisCheck
from .sql import SqlCheck, pool_statistics
from .storage import LocalDirectoryStore, ObjectStore, S3ObjectStore, StorageCheck
from .system import DiskCheck, MemoryCheck, MemoryLimit, cgroup_memory_limit, process_rss_bytes
from .tcp import TcpCheck

__all__ = [
    "BaseCheck",
    "BlockingCalls",
    "DiskCheck",
    "HttpCheck",
    "LocalDirectoryStore",
    "MemoryCheck",
    "MemoryLimit",
    "ObjectStore",
    "RedisCheck",
    "S3ObjectStore",
    "SqlCheck",
    "StorageCheck",
    "TcpCheck",
    "cgroup_memory_limit",
    "pool_statistics",
    "process_rss_bytes",
    "redact_url",
]
