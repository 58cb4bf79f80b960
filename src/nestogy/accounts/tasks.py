"""Background work of the accounts app."""

from __future__ import annotations

from nestogy.core.tasks import system_task


@system_task(queue_name="notifications")
def send_staff_password_reset_link(email: str) -> int:
    """Mail a reset link to the staff account with ``email``; return how many were sent.

    Runs in the background so the workspace's "forgot password" answer does the same work
    whether or not the address is known (the lookup happens here, not in the request).
    """
    from nestogy.accounts.security import reset_candidate, send_password_reset

    user = reset_candidate(email)
    if user is None:
        return 0
    send_password_reset(user)
    return 1
