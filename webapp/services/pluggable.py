"""A swappable part named in the app config ("module:Class" or the class), built once
per process and per setting, thread-safe, checked against its protocol."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeGuard, TypeVar

from flask import current_app, has_app_context
from werkzeug.utils import import_string

log = logging.getLogger(__name__)
T = TypeVar("T")


class Pluggable(Generic[T]):
    def __init__(self, setting: str, default: str, protocol: type, name: str) -> None:
        self.setting, self.default, self.protocol, self.name = setting, default, protocol, name
        self._built: dict[str | Callable[[], object], T] = {}
        # Keeps two threads of one worker from loading a model twice.
        self._lock = threading.Lock()

    def spec(self) -> str | Callable[[], object]:
        """The setting: "module:Class", or the class (or any factory) itself."""
        if has_app_context():
            configured: str | Callable[[], object] | None = current_app.config.get(self.setting)
            return configured or self.default
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
                instance: object = factory()
                if not self._follows_protocol(instance):
                    raise TypeError(f"{self.setting} {spec!r} has no score(text) method")
                log.info("%s ready: %s", self.name, type(instance).__qualname__)
                self._built[spec] = built = instance
        return built

    def _follows_protocol(self, instance: object) -> TypeGuard[T]:
        return isinstance(instance, self.protocol)

    def clear(self) -> None:
        with self._lock:
            self._built.clear()
