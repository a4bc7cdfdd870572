#!/usr/bin/env bash
# Python SDK tests: makes (or reuses) sdk/python/.venv, installs the package with its test
# extras, runs pytest against a real node (target/debug/hyperspace, or $HYPERSPACE_BIN; run
# `cargo build` first). Exit code = pytest's. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest "$@"
