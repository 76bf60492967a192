// The checkpoint app: sign in, keep the keys and revocation list fresh, verify a scanned or
// pasted token in the browser (and with the server when online), redeem a pickup once.

import * as session from "/checkpoint/session.js";
import { Scanner } from "/checkpoint/scan.js";
import { importKeys, readRevocations, RevocationListError, verifyToken } from "/checkpoint/verify.js";
import * as view from "/checkpoint/view.js";

const TICK_MS = 30 * 1000;  // shift end checked, documents refreshed when online
const SAVED_AT = "X-KinPass-Saved-At";
const ONLY_ONLINE = "A pickup can be redeemed only online. It waits in the scan queue.";

const state = { config: null, keys: new Map(), keysSavedAt: null, revocations: null, listProblem: false,
                scan: null };
const $ = (id) => document.getElementById(id);
const now = () => Date.now() / 1000;

function showFreshness() {
  view.freshness({ keysSavedAt: state.keysSavedAt, listIssuedAt: state.revocations?.iat,
                   listProblem: state.listProblem, maxAgeMinutes: state.config.revocation_max_age_minutes, now: now() });
}

async function documentFrom(path) {
  const response = await fetch(path, { credentials: "omit" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return { body: await response.json(), savedAt: Number(response.headers.get(SAVED_AT)) || Date.now() };
}

// The JWKS and revocation list: from the network through the worker, or its saved copies.
async function refreshDocuments() {
  try {
    const jwks = await documentFrom("/.well-known/jwks.json");
    state.keys = await importKeys(jwks.body);
    state.keysSavedAt = jwks.savedAt;
  } catch (error) {
    // no keys yet, or none saved: verification says Invalid until there are
  }
  try {
    const list = await documentFrom("/v1/authorizations/revocations");
    state.revocations = await readRevocations(list.body, state.keys, state.config.issuer);
    state.listProblem = false;
  } catch (error) {
    state.listProblem = error instanceof RevocationListError;
  }
  showFreshness();
}

function verifyLocally(token) {
  const { issuer, audience, revocation_max_age_minutes: maxAgeMinutes } = state.config;
  return verifyToken(token, state.keys, state.revocations, { issuer, audience, maxAgeMinutes, now: now() });
}

function detailsFrom(scan) {
  const claims = scan.local.claims;
  if (claims) {
    return { kind: claims.kind, holder: claims.holder, prisoner: claims.prisoner, handover: claims.handover,
             valid_from: claims.nbf, valid_until: claims.exp, entry_point: claims.entry_point };
  }
  return scan.server?.authorization ?? null;
}

function presentation(scan) {
  const result = scan.redeemed ? "redeemed" : (scan.server?.result ?? scan.local.result);
  const details = result === "invalid" ? null : detailsFrom(scan);
  if (result === "valid" && scan.local.stale) {
    const why = state.revocations
      ? `The revocation list is older than ${state.config.revocation_max_age_minutes} minutes, so this token may have been revoked since.`
      : "No trusted revocation list is saved, so this token may have been revoked.";
    return { word: view.NOT_CERTAIN, tone: "uncertain", details, result,
             note: `${why} Connect to the network to refresh the list before relying on it.` };
  }
  let note = "";
  if (scan.redeemed) note = `Redeemed just now (${scan.redeemed}). Hand over the prisoner.`;
  else if (result === "redeemed") note = "This pickup was redeemed before: do not hand over again.";
  else if (result === "valid" && !scan.server) note = "Verified on this device with the saved keys and revocation list.";
  else if (result === "valid") note = "Verified on this device and by the server.";
  else if (result === "invalid") note = "Not a KinPass authorization, or altered.";
  return { word: view.WORDS[result], tone: result === "valid" ? "valid" : "bad", details, result, note };
}

function render() {
  const scan = state.scan;
  if (!scan) {
    view.clearResult();
    return;
  }
  const shown = presentation(scan);
  view.result(shown);
  const pickup = shown.details?.kind === "pickup";
  const redeemable = pickup && shown.word === view.WORDS.valid;
  view.redeemButton({ shown: redeemable, enabled: redeemable && navigator.onLine && !scan.busy });
  if (scan.message) view.redeemNote(scan.message);
  else if (redeemable && !navigator.onLine) view.redeemNote(ONLY_ONLINE);
}

function renderQueue() {
  view.queue(session.queue(), (item) => check(item.token));
}

function enqueue(scan) {
  if (!scan.local.claims) return;  // only what this device verified itself can wait
  const holder = scan.local.claims.holder;
  const items = session.queue().filter((item) => item.id !== scan.local.claims.jti);
  items.push({ id: scan.local.claims.jti, token: scan.token, holder: `${holder.name} (${holder.name_latin})`,
               location: scan.local.claims.handover.location, scannedAt: now() });
  session.saveQueue(items);
  renderQueue();
}

function dequeue(id) {
  session.saveQueue(session.queue().filter((item) => item.id !== id));
  renderQueue();
}

async function askServer(scan) {
  try {
    const response = await session.act("/checkpoint/verify", { token: scan.token });
    if (response.ok) scan.server = await response.json();
  } catch (error) {
    if (error instanceof session.SignInError) signedOut("Signed out: sign in again.");
  }
}

async function check(raw) {
  document.body.dataset.checking = "true";
  try {
    await checkToken(String(raw).trim());
  } finally {
    delete document.body.dataset.checking;
  }
}

async function checkToken(token) {
  if (navigator.onLine && (!state.revocations || now() - state.revocations.iat > 60)) await refreshDocuments();
  let local = await verifyLocally(token);
  if (local.unknownKey && navigator.onLine) {
    await refreshDocuments();
    local = await verifyLocally(token);
  }
  const scan = { token, local, server: null, key: crypto.randomUUID(), redeemed: null, message: "", busy: false };
  state.scan = scan;
  render();
  if (navigator.onLine) {
    await askServer(scan);
    if (state.scan === scan) render();
  }
  const claims = local.claims;
  if (claims?.kind === "pickup") {
    const result = scan.server?.result ?? local.result;
    if (!scan.server && result === "valid") enqueue(scan);  // waits for a connection
    else if (scan.server && result !== "valid") dequeue(claims.jti);
  }
}

const REDEEM_PROBLEMS = {
  already_redeemed: ["redeemed", "This pickup was redeemed before: do not hand over again."],
  revoked: ["revoked", "This pickup was revoked."],
  expired: ["expired", "This pickup's handover window is over."],
  not_yet_valid: ["not_yet_valid", "This pickup's handover window has not begun."],
  invalid_token: ["invalid", "Not a KinPass authorization."],
  not_in_custody: [null, "The prisoner is no longer held (released, transferred or deceased): do not hand over."],
  not_redeemable: [null, "Only a pickup authorization can be redeemed."],
};

async function redeem() {
  const scan = state.scan;
  if (!scan || scan.busy) return;
  if (!navigator.onLine) {
    scan.message = ONLY_ONLINE;
    enqueue(scan);
    render();
    return;
  }
  scan.busy = true;
  scan.message = "Redeeming…";
  render();
  let response;
  try {
    // The same key on every try of this scan: a retry after a lost answer replays the first.
    response = await session.act("/checkpoint/redeem", { token: scan.token }, { "Idempotency-Key": scan.key });
  } catch (error) {
    scan.busy = false;
    if (error instanceof session.SignInError) {
      signedOut("Signed out: sign in again.");
      return;
    }
    scan.message = "No answer from the server. Press Redeem again: the same request is repeated, so it cannot redeem twice.";
    render();
    return;
  }
  scan.busy = false;
  const body = await response.json().catch(() => ({}));
  if (response.ok) {
    scan.redeemed = body.redeemed_at;
    scan.message = "";
    dequeue(body.authorization_id);
  } else {
    const [result, message] = REDEEM_PROBLEMS[body.code] ?? [null, "The server refused the redemption."];
    if (result) scan.server = { ...(scan.server || {}), result };
    scan.message = message;
    if (result) dequeue(scan.local.claims?.jti);
  }
  render();
}

function signedOut(message) {
  session.wipe();
  state.scan = null;
  scanner?.stop();
  view.clearResult();
  renderQueue();
  view.signedIn(false);
  $("sign-in-error").textContent = message || "";
}

const SIGN_IN_PROBLEMS = {
  invalid_credentials: "Wrong email or password.", otp_required: "Enter the one-time code.",
  invalid_otp: "Wrong or already used one-time code.", forbidden: "This account is not a checkpoint account.",
  offline: "Signing in needs a connection.",
  rate_limited: "Too many attempts: wait a few minutes.", account_disabled: "This account is disabled.",
};

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  $("sign-in-error").textContent = "";
  if (!navigator.onLine) {
    $("sign-in-error").textContent = "Signing in needs a connection.";
    return;
  }
  try {
    await session.signIn(form.email.value.trim(), form.password.value, form.otp.value.trim());
  } catch (error) {
    $("sign-in-error").textContent = SIGN_IN_PROBLEMS[error.code] || "Signing in failed.";
    return;
  } finally {
    form.password.value = "";
    form.otp.value = "";
  }
  view.signedIn(true);
  renderQueue();
  refreshDocuments();
}

let scanner = null;

async function startCamera() {
  $("camera-error").textContent = "";
  scanner = new Scanner($("viewfinder"), (text) => {
    $("camera").hidden = false;
    $("camera-stop").hidden = true;
    check(text);
  });
  try {
    await scanner.start();
    $("camera").hidden = true;
    $("camera-stop").hidden = false;
  } catch (error) {
    scanner.stop();
    $("camera-error").textContent = "No camera available: paste the token instead.";
  }
}

function stopCamera() {
  scanner?.stop();
  $("camera").hidden = false;
  $("camera-stop").hidden = true;
}

async function connectivity() {
  view.network(navigator.onLine);
  if (navigator.onLine) {
    await session.sync();
    if (!$("work").hidden && !session.current()) signedOut("Signed out: sign in again.");
    refreshDocuments();
  }
  render();
}

async function start() {
  state.config = await (await fetch("/checkpoint/config.json", { credentials: "omit" })).json();
  $("sign-in").addEventListener("submit", signIn);
  $("paste").addEventListener("submit", (event) => {
    event.preventDefault();
    check(event.target.token.value);
  });
  $("redeem").addEventListener("click", redeem);
  $("camera").addEventListener("click", startCamera);
  $("camera-stop").addEventListener("click", stopCamera);
  $("sign-out").addEventListener("click", async () => {
    await session.signOut();
    signedOut("Signed out.");
  });
  window.addEventListener("online", connectivity);
  window.addEventListener("offline", connectivity);
  view.network(navigator.onLine);
  if (navigator.onLine) await session.sync();  // offline, the page trusts what it kept
  view.signedIn(Boolean(session.current()));
  if (!session.current()) session.wipe();
  renderQueue();
  await refreshDocuments();
  setInterval(() => {
    if (!$("work").hidden && !session.current()) signedOut("Your shift is over: sign in again.");
    if (navigator.onLine) refreshDocuments();
    else showFreshness();
  }, TICK_MS);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("controllerchange", refreshDocuments);
    await navigator.serviceWorker.register("/checkpoint/sw.js", { scope: "/checkpoint/" });
  }
  document.body.dataset.ready = "true";
}

start();
