"""Configuration helpers: environment parsing, the generated secret key, EMAIL_URL."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"{name} must be one of {sorted(TRUE_WORDS | FALSE_WORDS)}, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def parse_proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """``NESTOGY_PROXY_SSL_HEADER`` as Django's ``SECURE_PROXY_SSL_HEADER``.

    ``X-Forwarded-Proto`` (the value ``https`` is implied) or ``X-Forwarded-Proto: https``;
    empty means no proxy header is trusted (the default: a client could send it itself).
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    name, _, value = raw.partition(":")
    name, value = name.strip(), (value.strip() or "https")
    if not name or not all(ch.isalnum() or ch == "-" for ch in name):
        raise ValueError(f"NESTOGY_PROXY_SSL_HEADER must be a header name such as "
                         f"X-Forwarded-Proto, got {raw!r}")
    return "HTTP_" + name.upper().replace("-", "_"), value


def env_networks(name: str) -> list[str]:
    """A comma-separated list of CIDR networks (``10.0.0.0/8,::1/128``), checked at start-up."""
    import ipaddress

    networks = env_list(name, [])
    for item in networks:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{name}: {item!r} is not a CIDR network") from None
    return networks


def load_or_create_secret_key(path: Path) -> str:
    """Return the key stored at ``path``, generating it (mode 0600) on first use."""
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of this process's own: two processes starting at once each write their own
    # file, and the first link wins.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    try:
        # Another process may have won the race; keep whichever file exists first.
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def parse_email_url(url: str) -> dict[str, object]:
    """Turn ``EMAIL_URL`` into Django's ``MAILERS`` setting (``{"default": {...}}``).

    Supported forms::

        console://                              print mails to stdout (default)
        smtp://user:pass@host:587?tls=1         SMTP with STARTTLS
        smtps://user:pass@host:465              SMTP over implicit TLS
        file:///var/spool/nestogy-mail          one file per message
        locmem://                               in memory (tests)
        dummy://                                discard
    """
    parts = urlsplit(url.strip() or "console://")
    scheme = parts.scheme.lower()
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme not in backends:
        raise ValueError(f"EMAIL_URL scheme must be one of {sorted(backends)}, got {scheme!r}")
    options: dict[str, object] = {}
    if scheme in {"smtp", "smtps"}:
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        options.update(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if scheme == "smtps" else 25),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_ssl=scheme == "smtps",
            use_tls=scheme == "smtp" and query.get("tls", "0").lower() in TRUE_WORDS,
            timeout=int(query.get("timeout", "30")),
        )
    elif scheme == "file":
        options["file_path"] = unquote(parts.path) or "./data/mail"
    return {"default": {"BACKEND": backends[scheme], "OPTIONS": options}}
