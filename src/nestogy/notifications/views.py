"""The sender verification page: the link mailed to ``notifications.from_email``.

GET shows what is being confirmed and a button; POST confirms (mail scanners that fetch
links do not confirm anything). No login: holding the link means having received it at the
address, which is the proof. An invalid, expired or replaced link answers 400.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from nestogy.notifications import actions, sender


def _page(request, context: dict, status: int = 200):
    response = render(request, "notifications/sender_verification.html", context,
                      status=status)
    # The token is in the URL: keep it out of Referer headers and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def sender_verification(request, token: str):
    try:
        if request.method == "POST":
            row = actions.confirm_sender(token)
            return _page(request, {"row": row, "company": row.company, "confirmed": True})
        row = sender.verification_from_link(token)
    except sender.InvalidLink as exc:
        return _page(request, {"error": exc.message}, status=400)
    return _page(request, {"row": row, "company": row.company,
                           "confirmed": row.verified_at is not None})
