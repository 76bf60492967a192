// The checkpoint app's service worker: the app shell, the JWKS, the signed revocation list and
// the app's settings, each fetched from the network when there is one and kept for offline.
// Nothing personal passes through here: tokens are verified in the page, and the API's
// answers about them are never cached.

const VERSION = "kinpass-checkpoint-v1";
const SHELL = [
  "/checkpoint/", "/checkpoint/app.js", "/checkpoint/verify.js", "/checkpoint/session.js",
  "/checkpoint/scan.js", "/checkpoint/view.js", "/checkpoint/jsQR.js", "/checkpoint/app.css",
  "/checkpoint/manifest.webmanifest", "/checkpoint/icon.svg", "/checkpoint/config.json",
];
const DOCUMENTS = ["/.well-known/jwks.json", "/v1/authorizations/revocations"];
const KEPT = new Set([...SHELL, ...DOCUMENTS]);
const SAVED_AT = "X-KinPass-Saved-At";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== VERSION).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

// The network's answer, stamped with when it arrived and saved; the saved one when offline.
async function networkFirst(request, path) {
  const cache = await caches.open(VERSION);
  try {
    // A connection that answers nothing counts as none after a few seconds.
    const response = await fetch(request, { cache: "no-store", signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const headers = new Headers(response.headers);
    headers.set(SAVED_AT, String(Date.now()));
    const stamped = new Response(await response.arrayBuffer(), { status: response.status, statusText: response.statusText, headers });
    await cache.put(path, stamped.clone());
    return stamped;
  } catch (error) {
    const saved = await cache.match(path);
    if (saved) return saved;
    return Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const path = url.pathname === "/checkpoint" ? "/checkpoint/" : url.pathname;
  if (!KEPT.has(path)) return;
  event.respondWith(networkFirst(event.request, path));
});
