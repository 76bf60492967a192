"""The names the console shows for the service's vocabularies, in the catalogues."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLES = {"officer": _l("officer"), "supervisor": _l("supervisor"), "auditor": _l("auditor"),
         "admin": _l("admin"), "checkpoint": _l("checkpoint"), "relative": _l("relative"),
         "system": _l("system")}
STATUSES = {"submitted": _l("submitted"), "in_review": _l("in review"),
            "info_requested": _l("information requested"),
            "approval_pending": _l("awaiting second approval"), "approved": _l("approved"),
            "completed": _l("completed"), "rejected": _l("rejected"),
            "withdrawn": _l("withdrawn"), "draft": _l("draft")}
CHECKS = {"document_integrity": _l("Document integrity"), "mrz_valid": _l("MRZ valid"),
          "document_not_expired": _l("Document not expired"),
          "applicant_matches_document": _l("Applicant matches document"),
          "relationship_evidence": _l("Relationship evidence"),
          "registry_match": _l("Registry match"),
          "next_of_kin_consistency": _l("Next of kin consistency"),
          "duplicate_document": _l("Duplicate document"),
          "conflicting_claims": _l("Conflicting claims")}
RESULTS = {"clear": _l("clear"), "consider": _l("consider"), "fail": _l("fail")}
DECISIONS = {"approve": _l("approved"), "reject": _l("rejected"),
             "request_info": _l("requested information")}
DOCUMENT_KINDS = {"passport": _l("passport"), "internal_passport": _l("internal passport"),
                  "id_card": _l("ID card"), "birth_certificate": _l("birth certificate"),
                  "marriage_certificate": _l("marriage certificate"), "photo": _l("photo"),
                  "other": _l("other document")}
DOCUMENT_STATUSES = {"pending_upload": _l("waiting for upload"), "stored": _l("stored"),
                     "rejected": _l("rejected"), "shredded": _l("shredded")}
RELATIONSHIPS = {"mother": _l("mother"), "father": _l("father"), "spouse": _l("spouse"),
                 "sibling": _l("sibling"), "child": _l("child"),
                 "grandparent": _l("grandparent"), "other": _l("other")}
PRISONER_STATUSES = {"held": _l("held"), "released": _l("released"),
                     "transferred": _l("transferred"), "deceased": _l("deceased")}
AUTHORIZATION_KINDS = {"travel": _l("travel authorization"),
                       "pickup": _l("pickup authorization")}
AUTHORIZATION_STATUSES = {"active": _l("active"), "revoked": _l("revoked"),
                          "redeemed": _l("redeemed"), "expired": _l("expired")}
AUDIT_OUTCOMES = {"success": _l("success"), "denied": _l("denied"), "failure": _l("failure")}
ACCOUNT_STATUSES = {"active": _l("enabled"), "disabled": _l("disabled"),
                    "pending_verification": _l("not verified")}

NAMES = {"role_name": ROLES, "status_name": STATUSES, "check_name": CHECKS,
         "result_name": RESULTS, "decision_name": DECISIONS, "kind_name": DOCUMENT_KINDS,
         "document_status_name": DOCUMENT_STATUSES,
         "relationship_name": RELATIONSHIPS, "prisoner_status_name": PRISONER_STATUSES,
         "authorization_kind_name": AUTHORIZATION_KINDS,
         "authorization_status_name": AUTHORIZATION_STATUSES,
         "outcome_name": AUDIT_OUTCOMES, "account_status_name": ACCOUNT_STATUSES}


def namer(table: dict) -> object:
    """A template function: the shown name of a value, or the value itself."""
    return lambda value: str(table.get(str(value), value)) if value is not None else "—"
