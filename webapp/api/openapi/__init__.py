"""The OpenAPI 3.1 description of /api/v1, served at ``GET /api/v1/openapi.json``.

- ``spec``: the whole document, assembled in order (``document()``, ``SCHEMAS``);
- ``primitives``: the small schema builders and plain types (``JSON``, ``STRING``...);
- ``components``: the error body and responses, parameters and security schemes;
- ``operations``: how an operation is written (who may call it, its answers, errors);
- ``auth``, ``articles``, ``polls``, ``sentiment``, ``comments``, ``moderation``:
  each resource group's schemas and paths.

Callers use the names below: ``document()`` (a fresh copy of the whole document),
``SCHEMAS`` (its named schemas) and ``JSON`` (the media type it speaks).
"""

from __future__ import annotations

from webapp.api.openapi.primitives import JSON
from webapp.api.openapi.spec import SCHEMAS, document

__all__ = ["JSON", "SCHEMAS", "document"]
