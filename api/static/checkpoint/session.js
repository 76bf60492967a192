// The signed-in checkpoint account: its tokens live in this tab's sessionStorage only (gone
// when the tab closes), the shift ends when the staff refresh token would, and signing out or
// the shift's end wipes the tokens, the current scan and the queue.

const KEY = "kinpass.checkpoint.session";
const QUEUE = "kinpass.checkpoint.queue";

export class SignInError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch (error) {
    return null;
  }
}

function save(state) {
  sessionStorage.setItem(KEY, JSON.stringify(state));
}

export function current() {
  const state = load();
  if (!state || Date.now() >= state.shiftEndsAt) return null;
  return state;
}

export function wipe() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(QUEUE);
}

async function problemCode(response) {
  try {
    return (await response.json()).code || "unauthorized";
  } catch (error) {
    return "unauthorized";
  }
}

function stateFrom(tokens, shiftEndsAt) {
  return { access: tokens.access_token, refresh: tokens.refresh_token,
           accessExpiresAt: Date.now() + (tokens.expires_in - 30) * 1000, shiftEndsAt };
}

export async function signIn(email, password, otp, shiftSeconds) {
  const response = await fetch("/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
    body: JSON.stringify({ login: email, password, otp }),
  });
  if (!response.ok) throw new SignInError(await problemCode(response));
  const state = stateFrom(await response.json(), Date.now() + shiftSeconds * 1000);
  const me = await fetch("/v1/me", { headers: { Authorization: `Bearer ${state.access}` }, credentials: "omit" });
  const roles = me.ok ? (await me.json()).roles : [];
  if (!roles.includes("checkpoint")) {
    await fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${state.access}` } });
    throw new SignInError("not_checkpoint");
  }
  save(state);
  return state;
}

async function refreshed(state) {
  const response = await fetch("/v1/auth/refresh", {
    method: "POST", headers: { Authorization: `Bearer ${state.refresh}` }, credentials: "omit",
  });
  if (!response.ok) {
    wipe();
    throw new SignInError(await problemCode(response));
  }
  const next = stateFrom(await response.json(), state.shiftEndsAt);
  save(next);
  return next;
}

// fetch with the account's access token, refreshed when it has run out.
export async function authorizedFetch(url, options = {}) {
  let state = current();
  if (!state) throw new SignInError("signed_out");
  if (Date.now() >= state.accessExpiresAt) state = await refreshed(state);
  const send = (s) => fetch(url, { ...options, credentials: "omit",
                                   headers: { ...(options.headers || {}), Authorization: `Bearer ${s.access}` } });
  let response = await send(state);
  if (response.status === 401) {
    const code = await problemCode(response.clone());
    if (code !== "token_expired") {
      wipe();
      throw new SignInError(code);
    }
    response = await send(await refreshed(state));
  }
  return response;
}

export async function signOut() {
  const state = load();
  wipe();
  if (state && navigator.onLine) {
    try {
      await fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${state.access}` }, credentials: "omit" });
    } catch (error) {
      // offline after all: the tokens are gone from this device and die with the shift
    }
  }
}

export function queue() {
  try {
    return JSON.parse(sessionStorage.getItem(QUEUE)) || [];
  } catch (error) {
    return [];
  }
}

export function saveQueue(items) {
  sessionStorage.setItem(QUEUE, JSON.stringify(items));
}
