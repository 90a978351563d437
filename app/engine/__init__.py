"""Using a model outside the loop: an engine protocol (GTP as Hex programs speak it) for GUIs and managers."""

from app.engine.gtp import GtpEngine, serve

__all__ = ["GtpEngine", "serve"]
