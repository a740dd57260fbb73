"""The socket protocol shared by the daemon and every client: framing, messages, error codes.

Stdlib only, so the CLI and the TUIs can import it without pulling in the daemon.
"""

from ccd.ipc.codec import NdjsonDecoder, ProtocolError, encode
from ccd.ipc.errors import DESCRIPTIONS, RpcError, describe
from ccd.ipc.messages import PROTOCOL_VERSION

__all__ = [
    "DESCRIPTIONS",
    "PROTOCOL_VERSION",
    "NdjsonDecoder",
    "ProtocolError",
    "RpcError",
    "describe",
    "encode",
]
