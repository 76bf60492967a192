"""Status guards for case routes: a transition not allowed from the case's current status is
409 invalid_state before anything else about the request (its body included) is looked at.

Place under the role decorator and above `@blp.arguments`:

    @blp.route("/cases/<uuid:case_id>/submit", methods=["POST"])
    @roles_required("relative")
    @relative_case_in_state("submit")
    @blp.response(202, CaseOut)
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from auth.roles import current_account
from services.cases.policy import require_relative_action, require_staff_action


def _guard(check: Callable, action: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(kwargs["case_id"], current_account(), action)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def relative_case_in_state(action: str) -> Callable:
    """The caller's own case (else 404), in a status that allows `action` (else 409)."""
    return _guard(require_relative_action, action)


def staff_case_in_state(action: str) -> Callable:
    """A submitted case (drafts are 404 to staff), in a status that allows `action`."""
    return _guard(require_staff_action, action)
