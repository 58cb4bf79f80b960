"""Test settings: the real settings with a fast password hasher."""

from nestogy.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Notification templates of the test event types (tests/templates/notifications/...).
from pathlib import Path as _Path  # noqa: E402

NESTOGY_NOTIFY_TEMPLATE_DIRS = [_Path(__file__).resolve().parent / "templates"]
# The notification tests post to receivers on 127.0.0.1: loopback is allowed the way an
# operator allows a network (the SSRF tests override this to allow nothing).
NESTOGY_EGRESS_ALLOW_NETWORKS = ["127.0.0.0/8", "::1/128"]
NESTOGY_NOTIFY_ALLOW_PRIVATE_TARGETS = False
