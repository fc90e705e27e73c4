"""SCRAM arithmetic and RFC 5929 channel binding (maas_dyn/_scram.py).

The RFC 5802 (SHA-1) and RFC 7677 (SHA-256) examples pin the arithmetic; SHA-512, the
only hash TrueNAS uses, is the same code with another digest name, and is pinned by the
exchange recorded with the official client in tests/truenas/test_scram.py.
"""

from __future__ import annotations

import hashlib
import ssl

import pytest
import trustme

from maas_dyn._scram import (
    ScramSyntaxError,
    auth_message,
    b64,
    client_proof,
    derive_keys,
    gs2_header,
    keys_from_client_key,
    parse_attributes,
    recover_client_key,
    server_signature,
    tls_server_end_point,
    unb64,
)

# (digest, salt, iterations, client-first-bare, server-first, client-final-bare, proof, v)
RFC_VECTORS = [
    pytest.param(
        "sha1", "QSXCR+Q6sek8bf92", 4096,
        "n=user,r=fyko+d2lbbFgONRv9qkxdawL",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
        "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "rmF9pqV8S7suAoZWja4dJRkFsKQ=", id="RFC5802-SHA1"),
    pytest.param(
        "sha256", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096,
        "n=user,r=rOprNGfwEbeRWgbNEkqO",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", id="RFC7677-SHA256"),
]


@pytest.mark.parametrize(("digest", "salt", "iterations", "first", "server_first", "final",
                          "proof", "verifier"), RFC_VECTORS)
def test_rfc_vectors(digest: str, salt: str, iterations: int, first: str, server_first: str,
                     final: str, proof: str, verifier: str) -> None:
    keys = derive_keys(b"pencil", unb64(salt), iterations, digest)
    message = auth_message(first, server_first, final)
    assert b64(client_proof(keys, message)) == proof
    assert b64(server_signature(keys.server_key, message, digest)) == verifier
    # The server's side: the proof yields the ClientKey whose hash is the StoredKey.
    client_key = recover_client_key(keys.stored_key, message, unb64(proof), digest)
    assert hashlib.new(digest, client_key).digest() == keys.stored_key
    # Keys rebuilt from what a profile stores are the same keys.
    again = keys_from_client_key(keys.salt, iterations, keys.client_key, keys.server_key, digest)
    assert b64(client_proof(again, message)) == proof


def test_keys_hide_themselves() -> None:
    keys = derive_keys(b"pencil", b"salt", 1)
    assert b64(keys.client_key) not in repr(keys) and "hidden" in repr(keys)


def test_recover_rejects_a_proof_of_the_wrong_length() -> None:
    with pytest.raises(ScramSyntaxError):
        recover_client_key(b"k" * 64, b"message", b"short")


@pytest.mark.parametrize(("text", "expected", "ok"), [
    ("r=abc,s=c2FsdA==,i=4096", "rsi", True),
    ("r=abc,i=4096,s=x", "rsi", False),      # out of order
    ("r=abc,s=,i=1", "rsi", False),          # empty value
    ("r=abc,s=x,i=1,e=x", "rsi", False),     # extra attribute
    ("v", "v", False),                       # no '='
])
def test_parse_attributes(text: str, expected: str, ok: bool) -> None:
    if ok:
        assert parse_attributes(text, expected)["s"] == "c2FsdA=="
    else:
        with pytest.raises(ScramSyntaxError):
            parse_attributes(text, expected)


def test_b64_is_strict() -> None:
    with pytest.raises(ScramSyntaxError):
        unb64("not base64!")
    assert gs2_header(True) == "p=tls-server-end-point,," and gs2_header(False) == "n,,"


# -- tls-server-end-point ------------------------------------------------------------------

def _der(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(p) for p in dotted.split("."))
    body = bytes([first * 40 + second])
    for value in rest:
        chunk = [value & 0x7F]
        while value > 0x7F:
            value >>= 7
            chunk.append(0x80 | (value & 0x7F))
        body += bytes(reversed(chunk))
    return _der(0x06, body)


def _certificate(algorithm: bytes) -> bytes:
    """A DER skeleton with the shape tls_server_end_point reads (no real signature)."""
    return _der(0x30, _der(0x30, b"\x02\x01\x01") + _der(0x30, algorithm)
                + _der(0x03, b"\x00" + b"s" * 200))


@pytest.mark.parametrize(("oid", "digest"), [
    ("1.2.840.113549.1.1.5", "sha256"),    # sha1WithRSA: SHA-1 becomes SHA-256
    ("1.2.840.113549.1.1.4", "sha256"),    # md5WithRSA: MD5 becomes SHA-256
    ("1.2.840.113549.1.1.12", "sha384"),
    ("1.2.840.113549.1.1.13", "sha512"),
    ("1.2.840.10045.4.3.3", "sha384"),     # ecdsa-with-SHA384
])
def test_binding_follows_the_signature_hash(oid: str, digest: str) -> None:
    der = _certificate(_oid(oid) + b"\x05\x00")
    assert tls_server_end_point(der) == hashlib.new(digest, der).digest()


def test_binding_of_rsassa_pss_uses_its_parameters() -> None:
    sha384 = _der(0xA0, _der(0x30, _oid("2.16.840.1.101.3.4.2.2")))
    der = _certificate(_oid("1.2.840.113549.1.1.10") + _der(0x30, sha384))
    assert tls_server_end_point(der) == hashlib.sha384(der).digest()
    default = _certificate(_oid("1.2.840.113549.1.1.10") + _der(0x30, b""))
    assert tls_server_end_point(default) == hashlib.sha256(default).digest()


@pytest.mark.parametrize("der", [
    _certificate(_oid("1.3.101.112")),     # Ed25519: RFC 5929 defines no binding
    b"\x30\x05\x30",                       # truncated
    b"",
])
def test_binding_refuses_what_it_cannot_read(der: bytes) -> None:
    with pytest.raises(ScramSyntaxError):
        tls_server_end_point(der)


def test_binding_of_a_real_certificate() -> None:
    pem = trustme.CA().issue_cert("127.0.0.1").cert_chain_pems[0].bytes().decode()
    der = ssl.PEM_cert_to_DER_cert(pem)
    assert tls_server_end_point(der) == hashlib.sha256(der).digest()  # RSA with SHA-256
