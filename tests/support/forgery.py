"""A forger with the database owner's rights, as the audit tests' attacker."""
from __future__ import annotations

from sqlalchemy import delete, select, update

from services.audit import events as audit, merkle
from services.audit.reading import EVENT_COLUMNS
from storage.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    AuditTreeHead,
    AuditTreeNode,
    AuditWitnessReceipt,
)


def forge_log(conn, start: int, keep: int | None = None) -> None:
    """A forger with the owner's rights: rewrite event ``start`` (or cut the log after
    ``keep``), re-chain, rebuild the whole tree and delete every signed head."""
    if keep is not None:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq > keep))
    rows = [dict(r._mapping) for r in conn.execute(
        select(*[getattr(AuditEvent, c) for c in EVENT_COLUMNS]).order_by(AuditEvent.seq))]
    prev = rows[start - 2]["hash"] if start > 1 else "0" * 64
    for row in rows[start - 1:]:
        row["prev_hash"] = prev
        if row["seq"] == start and keep is None:
            row["reason"] = "forged"
        row["hash"] = prev = audit.chain_hash(prev, row)
        conn.execute(update(AuditEvent).where(AuditEvent.seq == row["seq"]).values(
            reason=row["reason"], prev_hash=row["prev_hash"], hash=row["hash"]))
    conn.execute(update(AuditHead).values(seq=len(rows), hash=prev, checkpoint_seq=0,
                                          tree_frontier=None))
    for model in (AuditWitnessReceipt, AuditCheckpoint, AuditTreeHead, AuditTreeNode):
        conn.execute(delete(model))
    new, _ = merkle.append([], [bytes.fromhex(r["hash"]) for r in rows], 0)
    conn.execute(AuditTreeNode.__table__.insert(),
                 [{"level": lv, "idx": ix, "hash": h} for (lv, ix), h in new])
