"""fanzwatch: monitoring and observability for the FANZ creator-economy ecosystem."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fanzwatch")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
