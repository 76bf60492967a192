"""Every blueprint the app serves, in one list."""
from api.routes import (
    accounts,
    admin_cases,
    admin_documents,
    audit,
    authorizations,
    cases,
    checkpoint,
    documents,
    encryption_keys,
    handovers,
    prisoners,
    public,
    staff,
    wellknown,
)

ROUTES = [
    public.blp,
    audit.blp,
    accounts.blp,
    staff.blp,
    prisoners.blp,
    wellknown.blp,
    handovers.blp,
    authorizations.blp,
    checkpoint.blp,
    cases.blp,
    admin_cases.blp,
    documents.blp,
    admin_documents.blp,
    encryption_keys.blp,
]
