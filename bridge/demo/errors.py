"""The demo's one error."""

from bridge.errors import BridgeError


class DemoError(BridgeError):
    """The demo could not play its day; the message says where and what to do."""
