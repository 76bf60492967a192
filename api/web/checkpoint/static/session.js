// The signed-in checkpoint account. The session itself is an HttpOnly __Host- cookie that
// this script never sees; the page keeps only the CSRF token its posts carry and when the
// shift ends (so that it knows, offline, that it was signed in). Signing out, the server
// ending the session, or the shift's end wipes those, the current scan and the queue.

const KEY = "kinpass.checkpoint.session";
const QUEUE = "kinpass.checkpoint.queue";
const PENDING = "kinpass.checkpoint.sign-out-pending";  // a sign-out made offline, to finish
const CSRF_HEADER = "X-CSRF-Token";

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

export function current() {
  const state = load();
  if (!state || !state.shiftEndsAt || Date.now() >= state.shiftEndsAt) return null;
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

function post(path, csrf, body, extraHeaders = {}) {
  return fetch(path, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(body ?? {}),
    headers: { "Content-Type": "application/json", [CSRF_HEADER]: csrf || "", ...extraHeaders },
  });
}

// What the server says about this browser's session; null when there is no connection.
// A sign-out made offline is finished first, so the cookie left behind signs nobody in.
export async function sync() {
  let answer;
  try {
    const pending = sessionStorage.getItem(PENDING);
    if (pending) {
      await post("/checkpoint/logout", pending, {});
      sessionStorage.removeItem(PENDING);
    }
    const response = await fetch("/checkpoint/session", { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return null;
    answer = await response.json();
  } catch (error) {
    return null;
  }
  if (answer.signed_in) {
    sessionStorage.setItem(KEY, JSON.stringify({ csrf: answer.csrf_token, shiftEndsAt: Date.parse(answer.shift_ends_at) }));
  } else {
    wipe();
  }
  return answer;
}

export async function signIn(email, password, otp) {
  const before = await sync();
  if (!before) throw new SignInError("offline");
  const response = await post("/checkpoint/login", before.csrf_token, { email, password, otp });
  if (!response.ok) throw new SignInError(await problemCode(response));
  const after = await sync();
  if (!after || !after.signed_in) throw new SignInError("unauthorized");
  return after;
}

// A post on the signed-in session; a session the server has ended signs the page out.
export async function act(path, body, extraHeaders) {
  const state = current();
  if (!state) throw new SignInError("signed_out");
  const response = await post(path, state.csrf, body, extraHeaders);
  if (response.status === 401 || response.status === 403) {
    wipe();
    throw new SignInError(await problemCode(response));
  }
  return response;
}

export async function signOut() {
  const state = load();
  wipe();
  if (state) {
    try {
      await post("/checkpoint/logout", state.csrf, {});
    } catch (error) {
      // offline: finished at the next connection (or the session idles out on the server)
      sessionStorage.setItem(PENDING, state.csrf);
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
