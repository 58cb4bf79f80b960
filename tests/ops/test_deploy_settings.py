"""Production defaults: `nestogy check --deploy` is clean with HTTPS configured, the security
headers and the Content-Security-Policy are on every page, and plain-HTTP embedded mode
(`make run`) keeps working."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import textwrap

import pytest
from django.test import Client as HttpClient

PRODUCTION = {
    "NESTOGY_BASE_URL": "https://desk.example.com",
    "NESTOGY_ALLOWED_HOSTS": "desk.example.com",
    "EMAIL_URL": "smtp://mailer:secret@mail.example.com:587?tls=1",
}


def nestogy(args: list[str], tmp_path, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NESTOGY_", "DJANGO_")) and k not in ("DATABASE_URL",
                                                                     "EMAIL_URL")}
    env.update(NESTOGY_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="nestogy.settings",
               **env_vars)
    return subprocess.run([sys.executable, "-m", "nestogy", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def production(**extra) -> dict[str, str]:
    return {**PRODUCTION, "NESTOGY_SECRET_KEY": secrets.token_urlsafe(50), **extra}


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    result = nestogy(["check", "--deploy", "--fail-level", "WARNING"], tmp_path,
                     **production())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output.upper().replace("--FAIL-LEVEL", "")


def test_deploy_check_is_clean_with_hsts_preload_opted_in(tmp_path):
    result = nestogy(["check", "--deploy", "--fail-level", "WARNING"], tmp_path,
                     **production(NESTOGY_HSTS_PRELOAD="true"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output


def test_embedded_mode_documents_the_warnings_that_remain(tmp_path):
    """`make run` serves plain HTTP with the console mailer: the HTTPS-only settings stay off
    (secure cookies over http would break sign-in) and the deploy check says so."""
    result = nestogy(["check", "--deploy"], tmp_path)
    output = result.stdout + result.stderr
    found = set(re.findall(r"\((\w+\.[WE]\d+)\)", output))
    assert found == {
        "security.W004",  # no HSTS: the site is not served over HTTPS
        "security.W008",  # no redirect to HTTPS
        "security.W012",  # session cookie not Secure (it would not be sent over http)
        "security.W016",  # CSRF cookie not Secure (idem)
        "mail.E001",      # console mailer (EMAIL_URL unset)
    }, output


HEADERS_SCRIPT = textwrap.dedent("""
    import json
    from django.test import Client
    c = Client(HTTP_HOST="desk.example.com")
    secure = c.get("/portal/login/", secure=True)
    plain = c.get("/portal/login/")
    forwarded = c.get("/portal/login/", HTTP_X_FORWARDED_PROTO="https")
    health = c.get("/healthz")
    print(json.dumps({
        "secure": [secure.status_code, dict(secure.headers),
                   {k: str(v) for k, v in secure.cookies.items()}],
        "plain": [plain.status_code, plain.headers.get("Location", "")],
        "forwarded": [forwarded.status_code, forwarded.headers.get("Location", "")],
        "health": health.status_code,
    }))
""")


def _headers(tmp_path, **env_vars):
    result = nestogy(["shell", "-c", HEADERS_SCRIPT], tmp_path, **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_settings_send_hsts_secure_cookies_and_redirect(tmp_path):
    seen = _headers(tmp_path, **production())
    status, headers, cookies = seen["secure"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "upgrade-insecure-requests" in headers["Content-Security-Policy"]
    assert "secure" in cookies["csrftoken"].lower()
    assert seen["plain"] == [301, "https://desk.example.com/portal/login/"]
    # No proxy header configured: a client's X-Forwarded-Proto is not believed.
    assert seen["forwarded"][0] == 301
    # Health checks over plain HTTP are not redirected.
    assert seen["health"] != 301


def test_proxy_ssl_header_is_trusted_only_when_configured(tmp_path):
    seen = _headers(tmp_path, **production(NESTOGY_PROXY_SSL_HEADER="X-Forwarded-Proto"))
    assert seen["forwarded"][0] == 200


def test_plain_http_embedded_mode_has_no_https_only_behaviour(tmp_path):
    seen = _headers(tmp_path, NESTOGY_ALLOWED_HOSTS="desk.example.com")
    assert seen["plain"][0] == 200
    status, headers, cookies = seen["secure"]
    assert status == 200
    assert "Strict-Transport-Security" not in headers
    assert "secure" not in cookies["csrftoken"].lower()
    assert "upgrade-insecure-requests" not in headers["Content-Security-Policy"]


# -- in-process: the policy on each kind of page ------------------------------------------------

def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/portal/login/", "/admin/login/", "/api/v1/docs",
                                  "/portal/password-reset/"])
def test_every_html_page_has_the_policy_and_frame_protection(path):
    response = HttpClient().get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == "default-src 'self'"
    assert policy["img-src"] == "img-src 'self' data:"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


@pytest.mark.django_db
def test_portal_inline_style_carries_the_response_nonce():
    response = HttpClient().get("/portal/login/")
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode())[1]
    assert f"'nonce-{nonce}'" in _policy(response)["style-src"]
    again = HttpClient().get("/portal/login/")
    assert nonce not in again["Content-Security-Policy"]  # a fresh nonce per response
