// KPS1 containers (docs/encryption.md): segments sealed with AES-256-GCM, and the
// client-sealed container whose DEK is sealed to the server with HPKE (both suites).
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { XWing } from "@hpke/hybridkem-x-wing";

export const X25519_SUITE = "X25519-SHA256-AES256GCM";
export const XWING_SUITE = "MLKEM768X25519-SHA256-AES256GCM";
export const SEGMENT_SIZE = 65536;
const TAG = 16;
const INFO_LABEL = new TextEncoder().encode("kinpass/kps1/sealed-dek");
const WIRE_IDS: Record<string, number[]> = {
  [X25519_SUITE]: [0x0020, 0x0001, 0x0002],
  [XWING_SUITE]: [0x647a, 0x0001, 0x0002],
};

/** A byte array as Web Crypto takes it. */
export function bs(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

/** A byte array's own ArrayBuffer (a copy), as the HPKE key import takes it. */
export function buffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

export interface ServerKey { kid: string; suite: string; public_key: string }
export interface SealOptions { dek?: Uint8Array; noncePrefix?: Uint8Array; segmentSize?: number }

export function hpkeSuite(name: string): CipherSuite {
  const kem = name === XWING_SUITE ? new XWing() : name === X25519_SUITE
    ? new DhkemX25519HkdfSha256() : null;
  if (kem === null) throw new Error(`unknown suite ${name}`);
  return new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes256Gcm() });
}

export function uuidBytes(id: string): Uint8Array {
  const hex = id.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error("not a UUID");
  return fromHex(hex);
}

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromB64url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function u16(n: number): Uint8Array { return new Uint8Array([n >> 8, n & 0xff]); }
function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

export function coreHeader(segmentSize: number, noncePrefix: Uint8Array): Uint8Array {
  return concat(new TextEncoder().encode("KPS1"), new Uint8Array([1]), u32(segmentSize),
                noncePrefix);
}

function nonce(prefix: Uint8Array, counter: number, last: boolean): Uint8Array {
  return concat(prefix, u32(counter), new Uint8Array([last ? 1 : 0]));
}

async function aesKey(dek: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bs(dek), "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** The segments of ``plaintext`` (every one full but the last, which is short or empty). */
export async function encryptSegments(plaintext: Uint8Array, dek: Uint8Array, docId: string,
                                      segmentSize: number, noncePrefix: Uint8Array):
    Promise<Uint8Array> {
  const key = await aesKey(dek);
  const aad = concat(coreHeader(segmentSize, noncePrefix), uuidBytes(docId));
  const out: Uint8Array[] = [];
  const count = Math.floor(plaintext.length / segmentSize) + 1;
  for (let i = 0; i < count; i++) {
    const piece = plaintext.subarray(i * segmentSize, Math.min((i + 1) * segmentSize,
                                                               plaintext.length));
    out.push(new Uint8Array(await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: bs(nonce(noncePrefix, i, i === count - 1)),
        additionalData: bs(aad) }, key, bs(piece))));
  }
  return concat(...out);
}

/** Verified plaintext of the segments; throws at the first one that fails. */
export async function decryptSegments(segments: Uint8Array, dek: Uint8Array, docId: string,
                                      segmentSize: number, noncePrefix: Uint8Array):
    Promise<Uint8Array> {
  const key = await aesKey(dek);
  const aad = concat(coreHeader(segmentSize, noncePrefix), uuidBytes(docId));
  const sealed = segmentSize + TAG;
  const out: Uint8Array[] = [];
  let i = 0;
  for (let at = 0; at < segments.length; at += sealed, i++) {
    const last = at + sealed >= segments.length;
    out.push(new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bs(nonce(noncePrefix, i, last)), additionalData: bs(aad) },
      key, bs(segments.subarray(at, at + sealed)))));
  }
  return concat(...out);
}

export function storedContainer(segmentSize: number, noncePrefix: Uint8Array,
                                segments: Uint8Array): Uint8Array {
  return concat(coreHeader(segmentSize, noncePrefix), new Uint8Array([1]), segments);
}

/** A client-sealed container for one server key: a fresh DEK and nonce prefix unless the
 * options (test vectors) give them. */
export async function seal(plaintext: Uint8Array, key: ServerKey, docId: string,
                           options: SealOptions = {}): Promise<Uint8Array> {
  const dek = options.dek ?? crypto.getRandomValues(new Uint8Array(32));
  const prefix = options.noncePrefix ?? crypto.getRandomValues(new Uint8Array(7));
  const segmentSize = options.segmentSize ?? SEGMENT_SIZE;
  const suite = hpkeSuite(key.suite);
  const recipientPublicKey = await suite.kem.importKey("raw", buffer(fromB64url(key.public_key)),
                                                       true);
  const { ct, enc } = await suite.seal(
    { recipientPublicKey, info: concat(INFO_LABEL, uuidBytes(docId)) }, dek);
  const kid = new TextEncoder().encode(key.kid);
  const header = concat(coreHeader(segmentSize, prefix), new Uint8Array([2]),
                        ...WIRE_IDS[key.suite].map(u16), new Uint8Array([kid.length]), kid,
                        u16(enc.byteLength), new Uint8Array(enc), u16(ct.byteLength),
                        new Uint8Array(ct));
  return concat(header, await encryptSegments(plaintext, dek, docId, segmentSize, prefix));
}

/** Open a sealed container with a recipient private key (X25519 scalar, or the 32-byte
 * X-Wing seed): the test vectors' check. */
export async function openSealed(container: Uint8Array, suiteName: string,
                                 privateKey: Uint8Array, docId: string):
    Promise<{ dek: Uint8Array; plaintext: Uint8Array; kid: string }> {
  const view = new DataView(container.buffer, container.byteOffset, container.byteLength);
  const segmentSize = view.getUint32(5);
  const prefix = container.subarray(9, 16);
  const k = container[23];
  const kid = new TextDecoder().decode(container.subarray(24, 24 + k));
  const e = view.getUint16(24 + k);
  const enc = container.subarray(26 + k, 26 + k + e);
  const s = view.getUint16(26 + k + e);
  const sealedDek = container.subarray(28 + k + e, 28 + k + e + s);
  const suite = hpkeSuite(suiteName);
  const recipientKey = await suite.kem.importKey("raw", buffer(privateKey), false);
  const dek = new Uint8Array(await suite.open(
    { recipientKey, enc, info: concat(INFO_LABEL, uuidBytes(docId)) }, sealedDek));
  const plaintext = await decryptSegments(container.subarray(28 + k + e + s), dek, docId,
                                          segmentSize, prefix);
  return { dek, plaintext, kid };
}

