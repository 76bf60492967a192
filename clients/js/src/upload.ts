// Declare a document and upload it: by PUT, or by tus (tus-js-client), server- or
// client-side encrypted.
import { Upload } from "tus-js-client";
import { bs, seal, ServerKey, XWING_SUITE } from "./kps1.js";

export interface Options { clientSide: boolean; resumable: boolean; suite?: string;
                           chunkSize?: number }

async function call(base: string, token: string, method: string, path: string,
                    body?: unknown): Promise<any> {
  const response = await fetch(new URL(path, base), {
    method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = await response.json();
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(payload)}`);
  return payload;
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bs(data)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function serverKey(base: string, suite: string): Promise<ServerKey> {
  const { keys } = await (await fetch(new URL("/v1/encryption-keys", base))).json();
  const key = (keys as ServerKey[]).find((k) => k.suite === suite);
  if (!key) throw new Error(`the server offers no ${suite} key`);
  return key;
}

function tus(body: Uint8Array, endpoint: string, token: string, chunkSize: number):
    Promise<void> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(Buffer.from(body), {
      endpoint, chunkSize, headers: { Authorization: `Bearer ${token}` },
      retryDelays: [0, 500, 1000, 3000], onSuccess: () => resolve(), onError: reject });
    upload.start();
  });
}

export async function uploadDocument(base: string, token: string, caseId: string,
                                     file: Uint8Array, contentType: string, kind: string,
                                     options: Options): Promise<any> {
  const document = await call(base, token, "POST", `/v1/cases/${caseId}/documents`, {
    kind, content_type: contentType, size: file.length, sha256: await sha256Hex(file),
    encryption: options.clientSide ? "client" : "server" });
  const body = options.clientSide
    ? await seal(file, await serverKey(base, options.suite ?? XWING_SUITE), document.id)
    : file;
  if (options.resumable) {
    await tus(body, document.upload.tus_url, token, options.chunkSize ?? 1024 * 1024);
  } else {
    const response = await fetch(document.upload.url, {
      method: "PUT", body: bs(body), headers: { ...document.upload.headers,
                                      Authorization: `Bearer ${token}` } });
    if (response.status !== 200) {
      throw new Error(`${response.status} ${await response.text()}`);
    }
  }
  return call(base, token, "GET", `/v1/documents/${document.id}`);
}
