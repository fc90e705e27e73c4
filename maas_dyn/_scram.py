"""SCRAM (RFC 5802) arithmetic and RFC 5929 channel binding, shared by client and simulator.

Both sides of TrueNAS's ``auth.login_ex`` ``SCRAM`` mechanism must agree on these bytes,
so they live once, below the TrueNAS client and the simulator (see DESIGN.md, "One wire
layer"). The message flow itself lives with each side: the client in
:mod:`maas_dyn.truenas.scram`, the server in :mod:`maas_dyn.sim.truenas.services.auth`.

Why the standard library and not ``scramp``: TrueNAS departs from RFC 5802 in ways a
general SCRAM library does not model (the API key id rides in the user name as
``n=user:ID``; nonces are base64 of random bytes and the combined nonce is base64 of the
concatenated bytes), and a client must be able to log in from stored ClientKey/ServerKey
(what a profile keeps instead of the raw key), which ``scramp``'s client cannot take.
What is left is five lines of ``hashlib``/``hmac`` (``Hi`` is PBKDF2, RFC 5802 section
2.2), checked against the RFC 5802 (SHA-1) and RFC 7677 (SHA-256) test vectors.

Constants follow the TrueNAS SCRAM library (``truenas_scram.h``, as mirrored by
truenas/api_client ``py_scram/scram_crypto.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = [
    "CB_TLS_SERVER_END_POINT",
    "MAX_ITERATIONS",
    "MIN_ITERATIONS",
    "NONCE_BYTES",
    "ScramKeys",
    "ScramSyntaxError",
    "auth_message",
    "b64",
    "client_proof",
    "derive_keys",
    "gs2_header",
    "keys_from_client_key",
    "new_nonce",
    "parse_attributes",
    "recover_client_key",
    "server_signature",
    "tls_server_end_point",
    "unb64",
]

# The accepted range of PBKDF2 iterations: a server asking for fewer weakens the stored
# key; one asking for millions more makes a client burn CPU (the official client's bounds).
MIN_ITERATIONS = 50_000
MAX_ITERATIONS = 5_000_000
DEFAULT_ITERATIONS = 500_000
NONCE_BYTES = 32
CB_TLS_SERVER_END_POINT = "tls-server-end-point"


class ScramSyntaxError(ValueError):
    """A SCRAM message or certificate could not be read."""


def b64(data: bytes) -> str:
    """Base64-encode (standard alphabet, padded) to text."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Decode strict base64.

    Raises:
        ScramSyntaxError: Not valid base64.
    """
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ScramSyntaxError("a SCRAM value is not valid base64") from None


def new_nonce() -> bytes:
    """Return a fresh random nonce of :data:`NONCE_BYTES` bytes."""
    return secrets.token_bytes(NONCE_BYTES)


@dataclass(frozen=True, repr=False)
class ScramKeys:
    """Key material derived from a secret; what a profile may keep instead of it.

    Attributes:
        salt: The server's salt for this secret.
        iterations: The server's PBKDF2 iteration count.
        client_key: ``HMAC(SaltedPassword, "Client Key")``: proves the client.
        stored_key: ``H(ClientKey)``: what the server keeps.
        server_key: ``HMAC(SaltedPassword, "Server Key")``: checks the server.
        digest: Hash name (``sha512`` for TrueNAS).
    """

    salt: bytes
    iterations: int
    client_key: bytes
    stored_key: bytes
    server_key: bytes
    digest: str = "sha512"

    def __repr__(self) -> str:
        return f"ScramKeys({self.digest}, iterations={self.iterations}, keys=<hidden>)"


def derive_keys(secret: bytes, salt: bytes, iterations: int,
                digest: str = "sha512") -> ScramKeys:
    """Derive SCRAM keys from a secret (RFC 5802 section 3).

    Args:
        secret: The (normalised) password; for a TrueNAS API key, the part after ``-``.
        salt: The salt.
        iterations: PBKDF2 iterations (``Hi`` is PBKDF2 with HMAC of ``digest``).
        digest: Hash name.

    Returns:
        The keys.
    """
    salted = hashlib.pbkdf2_hmac(digest, secret, salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", digest)
    server_key = hmac.digest(salted, b"Server Key", digest)
    return ScramKeys(salt, iterations, client_key, hashlib.new(digest, client_key).digest(),
                     server_key, digest)


def keys_from_client_key(salt: bytes, iterations: int, client_key: bytes, server_key: bytes,
                         digest: str = "sha512") -> ScramKeys:
    """Rebuild :class:`ScramKeys` from a stored ClientKey and ServerKey."""
    return ScramKeys(salt, iterations, client_key, hashlib.new(digest, client_key).digest(),
                     server_key, digest)


def auth_message(client_first_bare: str, server_first: str, client_final_bare: str) -> bytes:
    """``client-first-message-bare , server-first-message , client-final-without-proof``."""
    return f"{client_first_bare},{server_first},{client_final_bare}".encode()


def client_proof(keys: ScramKeys, message: bytes) -> bytes:
    """``ClientKey XOR HMAC(StoredKey, AuthMessage)``."""
    signature = hmac.digest(keys.stored_key, message, keys.digest)
    return bytes(a ^ b for a, b in zip(keys.client_key, signature, strict=True))


def recover_client_key(stored_key: bytes, message: bytes, proof: bytes,
                       digest: str = "sha512") -> bytes:
    """The server side: ``ClientProof XOR HMAC(StoredKey, AuthMessage)``."""
    signature = hmac.digest(stored_key, message, digest)
    if len(proof) != len(signature):
        raise ScramSyntaxError("the client proof has the wrong length")
    return bytes(a ^ b for a, b in zip(proof, signature, strict=True))


def server_signature(server_key: bytes, message: bytes, digest: str = "sha512") -> bytes:
    """``HMAC(ServerKey, AuthMessage)``."""
    return hmac.digest(server_key, message, digest)


def gs2_header(channel_binding: bool) -> str:
    """The GS2 header: ``p=tls-server-end-point,,`` when binding, else ``n,,``."""
    return f"p={CB_TLS_SERVER_END_POINT},," if channel_binding else "n,,"


def parse_attributes(text: str, expected: str) -> dict[str, str]:
    """Read ``a=1,b=2`` into a dict, requiring the given attribute letters in order.

    Args:
        text: The message.
        expected: Attribute letters in their RFC order, e.g. ``"rsi"``.

    Returns:
        ``{letter: value}``.

    Raises:
        ScramSyntaxError: Missing, extra, repeated or empty attributes.
    """
    pairs = [part.partition("=") for part in text.split(",")]
    letters = "".join(name for name, _, _ in pairs)
    if letters != expected or any(not sep or not value for _, sep, value in pairs):
        raise ScramSyntaxError(f"expected the SCRAM attributes {','.join(expected)}")
    return {name: value for name, _, value in pairs}


# -- RFC 5929 tls-server-end-point -------------------------------------------------------------

# The certificate's signatureAlgorithm decides the hash; MD5 and SHA-1 become SHA-256
# (RFC 5929 section 4.1). EdDSA has no single hash: the binding is undefined.
_SIGNATURE_HASH = {
    "1.2.840.113549.1.1.4": "sha256", "1.2.840.113549.1.1.5": "sha256",
    "1.2.840.113549.1.1.14": "sha224", "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384", "1.2.840.113549.1.1.13": "sha512",
    "1.2.840.10045.4.1": "sha256", "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
    "1.2.840.10040.4.3": "sha256", "2.16.840.1.101.3.4.3.1": "sha224",
    "2.16.840.1.101.3.4.3.2": "sha256",
}
_RSASSA_PSS = "1.2.840.113549.1.1.10"
_DIGEST_OIDS = {
    "1.2.840.113549.2.5": "sha256", "1.3.14.3.2.26": "sha256",
    "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512",
}


def _tlv(der: bytes, at: int) -> tuple[int, int, int]:
    """Read one DER header at ``at``: ``(tag, value start, value end)``."""
    if at + 2 > len(der):
        raise ScramSyntaxError("truncated certificate")
    tag, first = der[at], der[at + 1]
    at += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(der):
            raise ScramSyntaxError("bad length in certificate")
        length = int.from_bytes(der[at:at + count], "big")
        at += count
    else:
        length = first
    if at + length > len(der):
        raise ScramSyntaxError("truncated certificate")
    return tag, at, at + length


def _oid(data: bytes) -> str:
    parts = [data[0] // 40, data[0] % 40] if data else []
    value = 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def _signature_hash(der: bytes) -> str:
    # Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    tag, start, _ = _tlv(der, 0)
    _, _, tbs_end = _tlv(der, start)
    tag, algo_start, algo_end = _tlv(der, tbs_end)
    tag, oid_start, oid_end = _tlv(der, algo_start)
    if tag != 0x06:
        raise ScramSyntaxError("certificate has no signature algorithm")
    oid = _oid(der[oid_start:oid_end])
    if oid in _SIGNATURE_HASH:
        return _SIGNATURE_HASH[oid]
    if oid == _RSASSA_PSS:
        # RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1 ...}
        if oid_end >= algo_end:
            return "sha256"
        _, params_start, params_end = _tlv(der, oid_end)
        if params_start < params_end and der[params_start] == 0xA0:
            _, inner, _ = _tlv(der, params_start)
            _, hash_algo, _ = _tlv(der, inner)
            _, hash_oid_start, hash_oid_end = _tlv(der, hash_algo)
            name = _DIGEST_OIDS.get(_oid(der[hash_oid_start:hash_oid_end]))
            if name is None:
                raise ScramSyntaxError("unknown RSASSA-PSS hash in the certificate")
            return name
        return "sha256"  # the default SHA-1, promoted
    raise ScramSyntaxError(f"tls-server-end-point is undefined for signature algorithm {oid}")


def tls_server_end_point(certificate_der: bytes) -> bytes:
    """The RFC 5929 ``tls-server-end-point`` channel binding of a server certificate.

    Args:
        certificate_der: The server's certificate (DER), as the TLS session presented it.

    Returns:
        The hash of the certificate with its signature's hash (MD5/SHA-1 -> SHA-256).

    Raises:
        ScramSyntaxError: The certificate cannot be read, or its signature algorithm
            defines no binding (EdDSA).
    """
    return hashlib.new(_signature_hash(certificate_der), certificate_der).digest()
