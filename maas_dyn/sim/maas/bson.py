r"""The little of BSON that ``op=details`` needs: a document of binary or null values.

MAAS answers ``details`` with ``bson.BSON.encode({"lshw": Binary(xml) | None,
"lldp": Binary(xml) | None})`` as ``application/bson`` (maasserver/api/nodes.py,
``NodeHandler.details``; the keys come from
maasserver/models/nodeprobeddetails.py ``get_single_probed_details``). The simulator has
no BSON dependency, so it writes those two element types itself (bsonspec.org 1.1:
``\x05`` binary with subtype 0, ``\x0a`` null).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

__all__ = ["encode_document"]

_BINARY, _NULL, _GENERIC_SUBTYPE = b"\x05", b"\x0a", b"\x00"


def encode_document(values: Mapping[str, bytes | None]) -> bytes:
    """Encode a flat document whose values are bytes (BSON binary) or None (null).

    Args:
        values: Key -> value, in the order to write.

    Returns:
        The BSON document.
    """
    elements = bytearray()
    for key, value in values.items():
        name = key.encode("utf-8") + b"\x00"
        if value is None:
            elements += _NULL + name
        else:
            elements += _BINARY + name + struct.pack("<i", len(value)) + _GENERIC_SUBTYPE + value
    # The length counts itself (4 bytes) and the trailing NUL.
    return struct.pack("<i", len(elements) + 5) + bytes(elements) + b"\x00"
