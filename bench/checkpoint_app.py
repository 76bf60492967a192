"""The checkpoint app: verification in Chromium next to OfflineVerifier in Python, first load.

    .venv/bin/python -m bench.checkpoint_app [--tokens 50] [--rounds 2000]

Tokens: travel authorizations issued through the API, one after another for one case, so each
re-issue revokes the one before and the signed revocation list holds all but the last. In the
browser: /checkpoint/verify.js's verifyToken (compact JWS parse, WebCrypto Ed25519 verify,
claim checks, revocation look-up) in headless Debian Chromium, keys and list imported once;
in Python, services.authorizations.offline.OfflineVerifier.verify on the same tokens, same run.
First load: every byte the server sends (status line, headers, body) from opening
/checkpoint/ in a fresh browser until the service worker has saved the app shell, the JWKS and
the revocation list — what a phone downloads to install the app.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, timedelta

from bench.authorizations import approved_case, quiet_app, staff_headers
from services.authorizations.offline import OfflineVerifier
from storage.db import utcnow
from tests.support.browser import CHROMIUM, live_server
from tests.support.checkpoint_app import controlled, launch, open_app

BROWSER_VERIFY = """async ([tokens, rounds]) => {
    const v = await import('/checkpoint/verify.js');
    const config = await (await fetch('/checkpoint/config.json')).json();
    const t0 = performance.now();
    const keys = await v.importKeys(await (await fetch('/.well-known/jwks.json')).json());
    const list = await v.readRevocations(
        await (await fetch('/v1/authorizations/revocations')).json(), keys, config.issuer);
    const setup = performance.now() - t0;
    const options = {issuer: config.issuer, audience: config.audience,
                     maxAgeMinutes: config.revocation_max_age_minutes};
    const results = {};
    for (const token of tokens) {
        const r = (await v.verifyToken(token, keys, list, options)).result;
        results[r] = (results[r] || 0) + 1;
    }
    const batches = [];
    for (let done = 0; done < rounds; done += tokens.length) {
        const b0 = performance.now();
        for (const token of tokens) await v.verifyToken(token, keys, list, options);
        batches.push((performance.now() - b0) / tokens.length);
    }
    batches.sort((a, b) => a - b);
    const mean = batches.reduce((a, b) => a + b, 0) / batches.length;
    return {setup, results, mean, median: batches[batches.length >> 1],
            p95: batches[Math.floor(batches.length * 0.95)]};
}"""


class Counted:
    """WSGI middleware: bytes the server sends, per path."""

    def __init__(self, app) -> None:
        self.app, self.sent = app, []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        head = {"bytes": 0}

        def counting_start(status, headers, exc_info=None):
            head["bytes"] = len(f"HTTP/1.1 {status}\r\n") + sum(
                len(f"{k}: {v}\r\n") for k, v in headers) + 2
            return start_response(status, headers, exc_info)

        body = 0
        for chunk in self.app(environ, counting_start):
            body += len(chunk)
            yield chunk
        self.sent.append((path, head["bytes"] + body))


def issue_tokens(client, officer: dict, count: int) -> list[str]:
    case_id = approved_case()
    start = utcnow().astimezone(UTC)
    body = {"kind": "travel", "valid_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valid_until": (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    tokens = []
    for _ in range(count):
        r = client.post(f"/v1/admin/cases/{case_id}/authorizations", json=body, headers=officer)
        assert r.status_code == 201, r.get_json()
        tokens.append(r.get_json()["token"])
    return tokens


def python_verify(client, tokens: list[str], rounds: int) -> tuple[dict, float]:
    verifier = OfflineVerifier(client.get("/.well-known/jwks.json").get_json(),
                               client.get("/v1/authorizations/revocations").get_json(),
                               issuer=client.application.extensions["kinpass"].settings.issuer)
    results: dict[str, int] = {}
    for token in tokens:
        result = str(verifier.verify(token).result)
        results[result] = results.get(result, 0) + 1
    began = time.perf_counter()
    done = 0
    while done < rounds:
        for token in tokens:
            verifier.verify(token)
        done += len(tokens)
    return results, (time.perf_counter() - began) * 1000 / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as data_dir:
        app, _ = quiet_app(data_dir)
        client = app.test_client()
        tokens = issue_tokens(client, staff_headers(client, "officer"), args.tokens)
        py_results, py_ms = python_verify(client, tokens, args.rounds)
        counted = Counted(app.wsgi_app)
        app.wsgi_app = counted
        with live_server(app) as base, sync_playwright() as p:
            browser = launch(p)
            try:
                version = browser.version
                page = browser.new_context().new_page()
                open_app(page, base)
                controlled(page)
                first_load = sum(size for _, size in counted.sent)
                files = len(counted.sent)
                largest = max(counted.sent, key=lambda item: item[1])
                browser_figures = page.evaluate(BROWSER_VERIFY, [tokens, args.rounds])
            finally:
                browser.close()
    print(f"chromium {version} ({CHROMIUM}); {len(tokens)} tokens "
          f"({len(tokens[-1])} chars), {len(tokens) - 1} revoked in the list, "
          f"{args.rounds} verifications each side")
    print(f"results, browser: {browser_figures['results']}; python: {py_results}")
    print(f"browser verifyToken      mean {browser_figures['mean']:.3f} ms  median "
          f"{browser_figures['median']:.3f} ms  p95 {browser_figures['p95']:.3f} ms per token "
          f"(batches of {len(tokens)})")
    print(f"python OfflineVerifier   mean {py_ms:.3f} ms per token")
    print(f"browser key + list import {browser_figures['setup']:.1f} ms (once per refresh)")
    print(f"first load               {first_load / 1024:.1f} KiB in {files} responses "
          f"(largest {largest[0]}: {largest[1] / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
