"""Fixtures shared by the service tests (a module may define its own ``reader``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def reader(make_user: Callable[..., Any]) -> Any:
    return make_user()


@pytest.fixture
def moderator(make_user: Callable[..., Any]) -> Any:
    return make_user(role="moderator")
