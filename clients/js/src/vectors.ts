// Every test vector of docs/encryption.md, checked with this client's own code.
import { readFileSync } from "node:fs";
import {
  decryptSegments, encryptSegments, fromHex, openSealed, seal, storedContainer, toHex,
} from "./kps1.js";

type Vector = Record<string, string>;

export function readVectors(markdown: string): Vector[] {
  const vectors: Vector[] = [];
  for (const match of markdown.matchAll(/```text\n(vector: [\s\S]*?)```/g)) {
    const fields: Vector = {};
    let key = "";
    for (const line of match[1].split("\n")) {
      if (line.startsWith("  ")) fields[key] += line.trim();
      else if (line.includes(":")) {
        key = line.slice(0, line.indexOf(":"));
        fields[key] = line.slice(line.indexOf(":") + 1).trim();
      }
    }
    vectors.push(fields);
  }
  return vectors;
}

async function checkStored(v: Vector): Promise<void> {
  const [dek, prefix, pt] = [fromHex(v.dek), fromHex(v.nonce_prefix), fromHex(v.plaintext)];
  const size = Number(v.segment_size);
  const ours = storedContainer(size, prefix, await encryptSegments(pt, dek, v.doc_id, size,
                                                                   prefix));
  if (toHex(ours) !== v.container) throw new Error(`${v.vector}: container differs`);
  const back = await decryptSegments(fromHex(v.container).subarray(17), dek, v.doc_id, size,
                                     prefix);
  if (toHex(back) !== v.plaintext) throw new Error(`${v.vector}: plaintext differs`);
}

async function checkSealed(v: Vector): Promise<void> {
  const privateKey = fromHex(v.private_key);
  const opened = await openSealed(fromHex(v.container), v.suite, privateKey, v.doc_id);
  if (toHex(opened.dek) !== v.dek || toHex(opened.plaintext) !== v.plaintext
      || opened.kid !== v.kid) {
    throw new Error(`${v.vector}: does not open to the vector's DEK and plaintext`);
  }
  const size = Number(v.segment_size);
  const ours = await seal(fromHex(v.plaintext), { kid: v.kid, suite: v.suite,
                                                  public_key: v.public_key },
                          v.doc_id, { dek: fromHex(v.dek), noncePrefix: fromHex(v.nonce_prefix),
                                      segmentSize: size });
  const again = await openSealed(ours, v.suite, privateKey, v.doc_id);
  if (toHex(again.plaintext) !== v.plaintext) throw new Error(`${v.vector}: own seal fails`);
  const theirs = fromHex(v.container);
  if (toHex(theirs.subarray(headerLength(theirs))) !== toHex(ours.subarray(headerLength(ours)))) {
    throw new Error(`${v.vector}: segments differ`);
  }
}

function headerLength(container: Uint8Array): number {
  const k = container[23];
  const e = (container[24 + k] << 8) | container[25 + k];
  return 28 + k + e + 48;
}

export async function checkVectors(path: string): Promise<string[]> {
  const checked: string[] = [];
  for (const v of readVectors(readFileSync(path, "utf8"))) {
    if (v.vector.startsWith("stored-")) await checkStored(v);
    else await checkSealed(v);
    checked.push(v.vector);
  }
  return checked;
}
