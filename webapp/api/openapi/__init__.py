"""The OpenAPI 3.1 description of /api/v1, served at ``GET /api/v1/openapi.json``.

Callers use the names below: ``document()`` (a fresh copy of the whole document),
``SCHEMAS`` (its named schemas) and ``JSON`` (the media type it speaks).
"""

from __future__ import annotations

from webapp.api.openapi.spec import JSON, SCHEMAS, document

__all__ = ["JSON", "SCHEMAS", "document"]
