"""Audit the installed dependencies for known vulnerabilities with pip-audit.

Fails on any known vulnerability. When the vulnerability service cannot be reached
(this CI network only reaches package indexes, not PyPI's JSON API or OSV), every
package comes back "could not be audited": that is reported loudly but is not a
failure, because it says nothing about the dependencies themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--format",
            "json",
            "--skip-editable",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        print(result.stdout, result.stderr, sep="\n")
        print("pip-audit: could not read its report", file=sys.stderr)
        return 1
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = [d for d in dependencies if "skip_reason" not in d]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"VULNERABLE {dep['name']} {dep['version']}: {ids}")
    if vulnerable:
        return 1
    if dependencies and not audited:
        print(
            f"pip-audit: WARNING: the vulnerability service was unreachable; none of "
            f"{len(dependencies)} packages could be checked."
        )
        return 0
    print(f"pip-audit: {len(audited)} packages audited, no known vulnerabilities.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
