"""Compact JWS (EdDSA) checked against jwcrypto, an independent JOSE implementation."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk, jws as jose_jws

from services.authorizations import jws


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


def jose_key(private: Ed25519PrivateKey) -> jwk.JWK:
    public = jws.public_raw(private.public_key())
    return jwk.JWK(**jws.public_jwk(jws.thumbprint(public), public))


def test_our_signature_verifies_with_jwcrypto(key):
    payload = {"aud": "kinpass-checkpoint", "holder": {"name": "Иванова Мария"}, "exp": 2}
    kid = jws.thumbprint(jws.public_raw(key.public_key()))
    token = jws.sign(payload, key, kid=kid, typ="kinpass-authorization+jwt")
    checked = jose_jws.JWS()
    checked.deserialize(token)
    checked.verify(jose_key(key), alg="EdDSA")
    assert json.loads(checked.payload) == payload
    assert checked.jose_header == {"alg": "EdDSA", "kid": kid,
                                   "typ": "kinpass-authorization+jwt"}


def test_jwcrypto_signature_verifies_with_ours(key):
    private = jwk.JWK.from_pyca(key)
    kid = jws.thumbprint(jws.public_raw(key.public_key()))
    signer = jose_jws.JWS(json.dumps({"jti": "x"}).encode())
    signer.add_signature(private, alg="EdDSA",
                         protected={"alg": "EdDSA", "kid": kid, "typ": "t"})
    token = signer.serialize(compact=True)
    assert jws.verify(token, {kid: key.public_key()}, typ="t") == (kid, {"jti": "x"})


def test_thumbprint_is_rfc7638(key):
    public = jws.public_raw(key.public_key())
    assert jws.thumbprint(public) == jose_key(key).thumbprint()


def test_tampering_and_wrong_keys_fail(key):
    kid = "k1"
    token = jws.sign({"a": 1}, key, kid=kid, typ="t")
    keys = {kid: key.public_key()}
    head, body, sig = token.split(".")
    other = Ed25519PrivateKey.generate()
    changed_body = jws.b64url(b'{"a":2}')
    changed_typ = jws.b64url(b'{"alg":"EdDSA","kid":"k1","typ":"u"}')
    bad = [
        f"{head}.{changed_body}.{sig}",
        f"{changed_typ}.{body}.{sig}",
        f"{head}.{body}.{sig[:-4]}AAAA",
        f"{head}.{body}.",
        f"{head}.{body}",
        f"{head}.{body}.{sig}=",
        jws.sign({"a": 1}, other, kid=kid, typ="t"),
        None, 42, "", "...", "a" * (jws.MAX_TOKEN_CHARS + 1),
    ]
    for candidate in bad:
        with pytest.raises(jws.JwsError):
            jws.verify(candidate, keys, typ="t")
    with pytest.raises(jws.JwsError):
        jws.verify(token, {"k2": key.public_key()}, typ="t")
    with pytest.raises(jws.JwsError):
        jws.verify(token, keys, typ="kinpass-authorization+jwt")
    assert jws.verify(token, keys, typ="t") == (kid, {"a": 1})


def test_non_eddsa_algorithms_are_refused(key):
    kid = "k1"
    for alg in ("none", "HS256", "ES256", "eddsa"):
        header = jws.b64url(json.dumps({"alg": alg, "kid": kid, "typ": "t"}).encode())
        body = jws.b64url(b'{"a":1}')
        signature = jws.b64url(key.sign(f"{header}.{body}".encode()))
        with pytest.raises(jws.JwsError):
            jws.verify(f"{header}.{body}.{signature}", {kid: key.public_key()}, typ="t")


def test_keys_from_jwks_skips_what_it_cannot_use(key):
    good = jose_key(key).export_public(as_dict=True)
    rsa = jwk.JWK.generate(kty="RSA", size=2048).export_public(as_dict=True)
    document = {"keys": [good, rsa, {"kty": "OKP", "crv": "Ed25519", "x": "!!", "kid": "b"},
                         {"kty": "OKP", "crv": "X25519", "x": good["x"], "kid": "c"},
                         "junk", {"kty": "OKP", "crv": "Ed25519", "x": good["x"]}]}
    assert list(jws.keys_from_jwks(document)) == [good["kid"]]
    assert jws.keys_from_jwks({"keys": "x"}) == {} and jws.keys_from_jwks([]) == {}
