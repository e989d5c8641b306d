"""FreshBooks-compatible sandbox (docs to be expanded)."""

from .app import Sandbox
from .options import SandboxOptions, WriteLogEntry
from .server import serve_on_loopback, serving

__all__ = ["Sandbox", "SandboxOptions", "WriteLogEntry", "serve_on_loopback", "serving"]
