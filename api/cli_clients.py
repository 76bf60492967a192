"""The commands that need no server runtime: verifying a token offline, and the reference
upload client."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from api.cli_runtime import emit
from clients.reference import Client, UploadFailed
from services.authorizations.offline import DEFAULT_MAX_AGE_MINUTES, STALE, verify_offline
from storage.vocabulary import VerificationResult

# verify-offline's exit status for each answer; any other result is 1.
EXIT_VALID, EXIT_OTHER, EXIT_UNTRUSTED, EXIT_STALE = 0, 1, 2, 3


@click.group()
def checkpoint() -> None:
    """Checkpoint tools that need no server."""


@checkpoint.command("verify-offline")
@click.option("--jwks", "jwks_file", type=click.File("rb"), required=True,
              help="A saved copy of /.well-known/jwks.json")
@click.option("--revocations", "revocations_file", type=click.File("rb"), required=True,
              help="A saved copy of /v1/authorizations/revocations")
@click.option("--issuer", envvar="KINPASS_ISSUER", required=True,
              help="The iss tokens and the list must carry (or KINPASS_ISSUER)")
@click.option("--max-age-minutes", envvar="KINPASS_REVOCATION_MAX_AGE_MINUTES",
              type=click.IntRange(min=1), default=DEFAULT_MAX_AGE_MINUTES, show_default=True,
              help="Past this age of the revocation list, nothing is valid: 'stale' "
                   "(or KINPASS_REVOCATION_MAX_AGE_MINUTES)")
@click.argument("token")
def checkpoint_verify_offline(jwks_file: Any, revocations_file: Any, issuer: str,
                              max_age_minutes: int, token: str) -> None:
    """Verify TOKEN with saved keys and revocations: exit 0 only when it is valid, 3 when the
    revocation list is too old to tell (stale), 2 when the list or keys cannot be trusted."""
    try:
        outcome = verify_offline(token, json.load(jwks_file), json.load(revocations_file),
                                 issuer=issuer, max_age_minutes=max_age_minutes)
    except (ValueError, AttributeError) as exc:
        click.echo(json.dumps({"error": f"unusable revocation list or JWKS: {exc}"}), err=True)
        sys.exit(EXIT_UNTRUSTED)
    emit({"result": outcome.result, "claims": outcome.claims,
           "revocations_issued_at": outcome.revocations_issued_at, "notes": outcome.notes})
    sys.exit({VerificationResult.VALID: EXIT_VALID, STALE: EXIT_STALE}.get(outcome.result,
                                                                        EXIT_OTHER))


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--case", "case_id", required=True, help="The case's id")
@click.option("--kind", required=True, help="passport, birth_certificate, ...")
@click.option("--token", envvar="KINPASS_TOKEN", required=True,
              help="A relative's access token (or KINPASS_TOKEN)")
@click.option("--url", envvar="KINPASS_URL", default="http://127.0.0.1:8000", show_default=True,
              help="The KinPass server (or KINPASS_URL)")
@click.option("--client-side", is_flag=True, help="Seal the file on this side (HPKE)")
@click.option("--content-type", default=None, help="Default: read from the file's bytes")
@click.option("--resumable", is_flag=True,
              help="Send with tus in 1 MiB chunks, resuming after a dropped connection")
def upload(file: Path, *, case_id: str, kind: str, token: str, url: str, client_side: bool,
           content_type: str | None, resumable: bool) -> None:
    """Reference client: add a document to a case and upload FILE, streaming."""
    try:
        document = Client(url, token).upload(file, case_id=case_id, kind=kind,
                                             client_side=client_side, content_type=content_type,
                                             resumable=resumable)
    except UploadFailed as exc:
        click.echo(json.dumps({"status": exc.status, "problem": exc.problem},
                              ensure_ascii=False), err=True)
        sys.exit(1)
    except (ValueError, OSError) as exc:
        click.echo(json.dumps({"error": str(exc)}), err=True)
        sys.exit(2)
    emit(document)
