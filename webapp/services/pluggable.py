"""A swappable part named in the app config ("module:Class" or the class), built once
per process and per setting, thread-safe, checked against its protocol."""

from __future__ import annotations

import logging
import threading
from typing import Any, Generic, TypeVar

from flask import current_app, has_app_context
from werkzeug.utils import import_string

log = logging.getLogger(__name__)
T = TypeVar("T")


class Pluggable(Generic[T]):
    def __init__(self, setting: str, default: str, protocol: type, name: str) -> None:
        self.setting, self.default, self.protocol, self.name = setting, default, protocol, name
        self._built: dict[Any, T] = {}
        # Keeps two threads of one worker from loading a model twice.
        self._lock = threading.Lock()

    def spec(self) -> Any:
        if has_app_context():
            return current_app.config.get(self.setting) or self.default
        return self.default

    def get(self) -> T:
        """Instances are cached by setting, so apps configured differently in one
        process (tests) each get their own."""
        spec = self.spec()
        built = self._built.get(spec)
        if built is not None:
            return built
        with self._lock:
            built = self._built.get(spec)
            if built is None:
                factory = import_string(spec) if isinstance(spec, str) else spec
                built = factory()
                if not isinstance(built, self.protocol):
                    raise TypeError(f"{self.setting} {spec!r} has no score(text) method")
                log.info("%s ready: %s", self.name, type(built).__qualname__)
                self._built[spec] = built
        return built  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._built.clear()
