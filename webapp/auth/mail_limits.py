"""How often a reader may ask for mail about an account (a reset, an address check, an
address change): RATELIMIT_PASSWORD_RESET, counted per address asked about and per
client address, the API and the pages sharing each count.

Per address, so nobody can fill one person's inbox from many places; per client, so
one place cannot try many addresses. The same limit answers whether or not an account
has the address, so the 429 tells nothing either.
"""

from __future__ import annotations

from flask import current_app

from webapp.extensions import client_address
from webapp.ratelimits import enforce


def limit_account_mail(kind: str, address: str) -> None:
    """Count one request for mail of ``kind`` to ``address``; RateLimited (429) when spent."""
    limits = current_app.config["RATELIMIT_PASSWORD_RESET"]
    doing = "asking for mail"
    enforce(f"{kind}-address", limits, address.strip().lower(), action=doing)
    enforce(f"{kind}-client", limits, client_address(), action=doing)
