"""The browser fixtures of the portal tests serve the workspace's browser tests too."""

from tests.portal.conftest import browser, csp_violations, media_root, page, screenshot  # noqa: F401
