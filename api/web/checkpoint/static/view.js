// What the guard sees: the verdict, the holder's details, the freshness of the saved keys and
// list, and the queue. Text only (textContent), never markup from a token.

export const WORDS = { valid: "Valid", revoked: "Revoked", expired: "Expired", not_yet_valid: "Not yet valid",
                       redeemed: "Redeemed", invalid: "Invalid" };
export const NOT_CERTAIN = "Not certain";

const $ = (id) => document.getElementById(id);

function set(id, text) {
  $(id).textContent = text ?? "";
}

function moment(value) {
  if (value === undefined || value === null) return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function minutes(seconds) {
  const m = Math.max(0, Math.floor(seconds / 60));
  if (m < 1) return "less than a minute ago";
  if (m < 120) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ${m % 60} min ago`;
}

export function freshness({ keysSavedAt, listIssuedAt, listProblem, maxAgeMinutes, now }) {
  set("keys-age", keysSavedAt ? `saved ${minutes(now - keysSavedAt / 1000)}` : "not saved yet");
  const list = $("list-age");
  if (listProblem) {
    list.textContent = "cannot be trusted (its signature does not check out)";
  } else if (listIssuedAt) {
    list.textContent = `issued ${minutes(now - listIssuedAt)} (trusted for ${maxAgeMinutes} min)`;
  } else {
    list.textContent = "not saved yet";
  }
  list.classList.toggle("stale", Boolean(listProblem) || !listIssuedAt || now - listIssuedAt > maxAgeMinutes * 60);
}

export function network(online) {
  const badge = $("network");
  badge.textContent = online ? "Online" : "Offline";
  badge.classList.toggle("offline", !online);
}

export function signedIn(yes) {
  $("sign-in").hidden = yes;
  $("work").hidden = !yes;
  $("sign-out").hidden = !yes;
}

export function clearResult() {
  $("result").hidden = true;
  set("verdict", "");
  set("verdict-note", "");
  set("redeem-note", "");
  for (const id of ["holder-name", "holder-latin", "holder-birth", "holder-document", "prisoner-name",
                    "prisoner-latin", "prisoner-birth", "handover-location", "handover-window",
                    "travel-window", "travel-entry"]) set(id, "");
}

// scan: {word, tone, note, details: {kind, holder, prisoner, handover, valid_from, valid_until, entry_point}}
export function result(scan) {
  clearResult();
  $("result").hidden = false;
  const verdict = $("verdict");
  verdict.textContent = scan.word;
  verdict.className = `verdict ${scan.tone}`;
  set("verdict-note", scan.note);
  const details = scan.details;
  $("holder").hidden = !details;
  $("pickup").hidden = !details || details.kind !== "pickup";
  $("travel").hidden = !details || details.kind !== "travel";
  if (!details) return;
  const holder = details.holder || {};
  set("holder-name", holder.name);
  set("holder-latin", holder.name_latin);
  set("holder-birth", holder.birth_date);
  set("holder-document", holder.document_number);
  if (details.kind === "pickup") {
    const prisoner = details.prisoner || {};
    const handover = details.handover || {};
    set("prisoner-name", prisoner.name);
    set("prisoner-latin", prisoner.name_latin);
    set("prisoner-birth", prisoner.birth_date);
    set("handover-location", handover.location);
    set("handover-window", `${moment(handover.starts_at)} – ${moment(handover.ends_at)}`);
  } else {
    set("travel-window", `${moment(details.valid_from)} – ${moment(details.valid_until)}`);
    set("travel-entry", details.entry_point || "any");
  }
}

export function redeemButton({ shown, enabled }) {
  $("redeem").hidden = !shown;
  $("redeem").disabled = !enabled;
}

export function redeemNote(text) {
  set("redeem-note", text);
}

export function queue(items, onOpen) {
  const list = $("queue");
  list.replaceChildren();
  $("queue-empty").hidden = items.length > 0;
  for (const item of items) {
    const entry = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = `${item.holder} — pickup at ${item.location}, scanned ${moment(item.scannedAt)} `;
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = "Check again";
    open.addEventListener("click", () => onOpen(item));
    entry.append(label, open);
    list.append(entry);
  }
}
