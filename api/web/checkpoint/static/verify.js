// Verifying an authorization token in the browser, as services/authorizations/offline.py does:
// a compact JWS with EdDSA (WebCrypto Ed25519) against the saved JWKS, its claims, and the
// saved revocation list, whose own signature is checked first.

export const TOKEN_TYPE = "kinpass-authorization+jwt";
export const LIST_TYPE = "kinpass-revocations+jwt";
export const MAX_TOKEN_CHARS = 16 * 1024;

const B64URL = /^[A-Za-z0-9_-]*$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const ascii = new TextEncoder();

export class JwsError extends Error {}

function bytes(part) {
  if (typeof part !== "string" || !B64URL.test(part) || part.length % 4 === 1) {
    throw new JwsError("bad base64url");
  }
  const binary = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (part.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

function object(part) {
  let value;
  try {
    value = JSON.parse(strictUtf8.decode(bytes(part)));
  } catch (error) {
    throw new JwsError("bad json");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new JwsError("not an object");
  return value;
}

const isMapping = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isStamp = (v) => Number.isInteger(v);

// The usable Ed25519 signing keys of a JWKS document, by kid; other keys are skipped.
export async function importKeys(jwks) {
  const keys = new Map();
  const entries = isMapping(jwks) && Array.isArray(jwks.keys) ? jwks.keys : [];
  for (const jwk of entries) {
    if (!(isMapping(jwk) && jwk.kty === "OKP" && jwk.crv === "Ed25519" && (jwk.alg ?? "EdDSA") === "EdDSA"
          && (jwk.use ?? "sig") === "sig" && typeof jwk.kid === "string" && typeof jwk.x === "string")) continue;
    try {
      const key = await crypto.subtle.importKey("raw", bytes(jwk.x), { name: "Ed25519" }, false, ["verify"]);
      keys.set(jwk.kid, key);
    } catch (error) {
      // a key this browser cannot read verifies nothing
    }
  }
  return keys;
}

export function readHeader(token, maxChars = MAX_TOKEN_CHARS) {
  if (typeof token !== "string" || token.split(".").length !== 3 || (maxChars !== null && token.length > maxChars)) {
    throw new JwsError("not a compact JWS");
  }
  return object(token.split(".")[0]);
}

// Header, key and signature checked; the payload returned. Throws JwsError otherwise.
export async function verifyJws(token, keys, typ, maxChars = MAX_TOKEN_CHARS) {
  const header = readHeader(token, maxChars);
  if (header.alg !== "EdDSA" || header.typ !== typ || "crit" in header) throw new JwsError("wrong header");
  const key = typeof header.kid === "string" ? keys.get(header.kid) : undefined;
  if (key === undefined) throw new JwsError("unknown key");
  const [head, body, signature] = token.split(".");
  let good = false;
  try {
    good = await crypto.subtle.verify({ name: "Ed25519" }, key, bytes(signature), ascii.encode(`${head}.${body}`));
  } catch (error) {
    good = false;
  }
  if (!good) throw new JwsError("bad signature");
  return object(body);
}

export class RevocationListError extends Error {}

// {iat, revoked: Set of ids} from the list's own JWS; the unsigned copy beside it is ignored.
export async function readRevocations(document, keys, issuer) {
  let payload;
  try {
    payload = await verifyJws(isMapping(document) ? document.jws : undefined, keys, LIST_TYPE, null);
  } catch (error) {
    throw new RevocationListError(error.message);
  }
  if (!Array.isArray(payload.revoked) || !isStamp(payload.iat) || (issuer && payload.iss !== issuer)) {
    throw new RevocationListError("not a KinPass revocation list");
  }
  return { iat: payload.iat, revoked: new Set(payload.revoked.filter(isMapping).map((e) => String(e.id))) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function wellFormed(claims, issuer, audience) {
  if (![claims.iat, claims.nbf, claims.exp].every(isStamp)) return false;
  if (claims.aud !== audience || (issuer && claims.iss !== issuer)) return false;
  if (!["travel", "pickup"].includes(claims.kind) || !isMapping(claims.holder)) return false;
  if (claims.kind === "pickup" && !(isMapping(claims.prisoner) && isMapping(claims.handover))) return false;
  return typeof claims.jti === "string" && UUID.test(claims.jti);
}

// {result, claims, stale}: result is valid | revoked | expired | not_yet_valid | invalid;
// stale says the revocation list is older than the maximum age (then "valid" is not certain).
export async function verifyToken(token, keys, revocations, { issuer, audience, maxAgeMinutes, now }) {
  const moment = now ?? Date.now() / 1000;
  const stale = !revocations || moment - revocations.iat > maxAgeMinutes * 60;
  let claims;
  try {
    claims = await verifyJws(token, keys, TOKEN_TYPE);
  } catch (error) {
    return { result: "invalid", claims: null, stale, unknownKey: error.message === "unknown key" };
  }
  if (!wellFormed(claims, issuer, audience)) return { result: "invalid", claims: null, stale };
  let result = "valid";
  if (revocations && revocations.revoked.has(claims.jti)) result = "revoked";
  else if (moment >= claims.exp) result = "expired";
  else if (moment < claims.nbf) result = "not_yet_valid";
  return { result, claims, stale };
}
