"""Origins of embedding sites: exact ``scheme://host[:port]``, normalised, so the
frame-ancestors list and the CORS check compare strings that mean one thing."""

from __future__ import annotations

from urllib.parse import urlsplit

from webapp.errors import InvalidInput

_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_ORIGINS = 20


def normalise_origin(raw: str) -> str:
    """``raw`` as an origin: lower-case scheme and host, IDNA host, no default port, no
    path, query, fragment, user or wildcard. ValueError says what is wrong."""
    text = raw.strip()
    if not text:
        raise ValueError("empty")
    if any(char.isspace() or char in "*\\" for char in text) or not text.isprintable():
        raise ValueError(f"{text!r} is not an origin (no spaces or wildcards)")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{text!r} is not an http or https origin")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{text!r} names a user: an origin has none")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(f"{text!r} has a path: an origin is scheme://host[:port] only")
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"{text!r} has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{text!r} has a port out of range") from exc
    if ":" in host:  # an IPv6 literal
        shown_host = f"[{host}]"
    else:
        try:
            shown_host = host.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise ValueError(f"{text!r} has a host that is not a domain name") from exc
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown_host}"
    return f"{scheme}://{shown_host}:{port}"


def parse_origins(text: str) -> list[str]:
    """The origins of a form's text (one per line, or separated by spaces or commas),
    normalised, each once, in the order given; InvalidInput on the ``origins`` field
    naming the first bad one."""
    found: list[str] = []
    for piece in text.replace(",", " ").split():
        try:
            origin = normalise_origin(piece)
        except ValueError as exc:
            raise InvalidInput(
                "Please correct the allowed origins.", fields={"origins": str(exc)}
            ) from exc
        if origin not in found:
            found.append(origin)
    if not found:
        raise InvalidInput(
            "Please give at least one allowed origin.", fields={"origins": "required"}
        )
    if len(found) > MAX_ORIGINS:
        raise InvalidInput(
            "Please correct the allowed origins.",
            fields={"origins": f"at most {MAX_ORIGINS} origins"},
        )
    return found


def origin_of_url(url: str) -> str | None:
    """The origin of an http(s) URL, normalised; None for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.netloc:
        return None
    netloc = parts.netloc.rpartition("@")[2]
    try:
        return normalise_origin(f"{parts.scheme}://{netloc}")
    except ValueError:
        return None
