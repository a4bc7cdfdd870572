#!/usr/bin/env bash
# Installs the locked dev dependencies, builds the client with tsc and runs its tests against
# a real node (target/debug/hyperspace, or HYPERSPACE_BIN): run `cargo build` first.
# The exit code is the tests'.
set -euo pipefail
cd "$(dirname "$0")"
echo "== sdk/typescript: node $(node --version), npm $(npm --version)"
npm ci --no-audit --no-fund
npm run build
npm test
