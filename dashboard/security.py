"""Response headers that keep the browser on the app's side: a Content-Security-Policy that
runs only the app's own scripts, no framing by other sites, no MIME sniffing, no referrer
sent off-site, and HSTS when the deployment serves HTTPS (`server.secure_cookies`)."""

from __future__ import annotations

from collections.abc import Sequence

import dash
import flask

from etl.settings import Settings


def content_security_policy(inline_script_hashes: Sequence[str]) -> str:
    """The policy: the app's own files, the inline scripts Dash writes (by quoted hash as
    `Dash.csp_hashes` gives them), no frames."""
    sources = {
        "default-src": ["'self'"],
        # Dash's inline bootstrap script by its hash; nothing inline or evaluated otherwise
        # (the browser tests fail on any console error, a refused script included)
        "script-src": ["'self'", *inline_script_hashes],
        # Mantine and Plotly set style attributes; the login page has its own <style>
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in sources.items())


def install_security_headers(app: dash.Dash, settings: Settings) -> None:
    """Add the headers to every response of `app`'s server (after its callbacks are defined,
    so that the policy knows every inline script)."""
    headers = {
        "Content-Security-Policy": content_security_policy(app.csp_hashes()),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.server.secure_cookies:
        headers["Strict-Transport-Security"] = "max-age=31536000"

    def add_headers(response: flask.Response) -> flask.Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    app.server.after_request(add_headers)
