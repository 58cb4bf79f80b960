"""Test settings: the real settings with a fast password hasher."""

from nestogy.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
