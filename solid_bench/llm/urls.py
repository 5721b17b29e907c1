"""Server URLs as they may be shown: credentials and query strings never leave the process.

``--base-url http://user:pass@host/v1`` is legal (the openai backend sends them as basic auth), so
every message, log line, manifest and cache entry that names a server goes through
``public_url`` / ``public_urls`` first.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def public_url(url: str) -> str:
    """The URL without user, password, query or fragment (scheme, host, port and path kept; http:// added when missing)."""
    url = url.strip()
    if "://" not in url:  # "user:pw@host:8000" would parse as scheme "user"
        url = "http://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparsable port or bracket: show nothing that might hold a secret
        return "(unparsable URL)"
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def public_urls(spec: str | None) -> str | None:
    """A comma-separated list of URLs (as ``--base-url`` takes it), each made public."""
    if spec is None:
        return None
    return ",".join(public_url(u) for u in spec.split(",") if u.strip())
