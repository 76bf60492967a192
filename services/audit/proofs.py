"""What an auditor asks of the tree: the newest signed head, inclusion and consistency proofs
(RFC 9162 §2.1.3–2.1.4). Each read is itself recorded in the log."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.audit import tree
from services.audit.checkpoints import tree_head_dict
from services.audit.events import record_event, sign_tree_head_now
from storage.db import session as db
from storage.domain_errors import NotFound, ValidationFailed
from storage.models.audit import AuditHead, AuditTreeHead


def _log_size() -> int:
    size = db().execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar_one_or_none()
    return size or 0


def _within_log(field: str, value: int, lowest: int = 1) -> None:
    if value < lowest or value > _log_size():
        raise ValidationFailed(errors={field: ["Outside the log."]})


def latest_tree_head(actor: Any) -> dict[str, Any]:
    record_event("audit.read", actor, subject_type="audit", subject_id="tree_head")
    head = db().execute(select(AuditTreeHead).order_by(AuditTreeHead.id.desc())
                        .limit(1)).scalar_one_or_none()
    if head is None:
        raise NotFound()
    return tree_head_dict(head)


def new_tree_head(actor: Any) -> dict[str, Any]:
    return tree_head_dict(sign_tree_head_now(actor))


def inclusion(actor: Any, seq: int, tree_size: int) -> dict[str, Any]:
    """The audit path of event ``seq`` in the tree of the first ``tree_size`` events."""
    record_event("audit.read", actor, subject_type="audit", subject_id="inclusion",
                 reason=f"seq={seq} tree_size={tree_size}")
    _within_log("tree_size", tree_size)
    if not 1 <= seq <= tree_size:
        raise ValidationFailed(errors={"seq": ["Outside the tree."]})
    leaf, path = tree.inclusion_proof(db(), seq, tree_size)
    return {"seq": seq, "tree_size": tree_size, "leaf_hash": leaf, "audit_path": path}


def consistency(actor: Any, first: int, second: int) -> dict[str, Any]:
    """The proof that the tree of ``second`` events extends that of ``first``."""
    record_event("audit.read", actor, subject_type="audit", subject_id="consistency",
                 reason=f"first={first} second={second}")
    _within_log("second", second)
    if not 1 <= first <= second:
        raise ValidationFailed(errors={"first": ["Must be between 1 and second."]})
    return {"first": first, "second": second,
            "consistency_path": tree.consistency_proof(db(), first, second)}
