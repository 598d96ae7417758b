#!/usr/bin/env bash
# The whole test suite (npm test; .ci/run runs exactly this).
#   npm test                 every test
#   npm test -- FILE...      only these test files
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/system-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
if [ -z "${DFN_MODEL_DIR:-}" ] && [ -d ../shared/models/DeepFilterNet3 ]; then
  export DFN_MODEL_DIR="$(cd ../shared/models/DeepFilterNet3 && pwd)"
fi
if [ -z "${HUSHCAST_SHARED_DIR:-}" ] && [ -d ../shared ]; then
  export HUSHCAST_SHARED_DIR="$(cd ../shared && pwd)"
fi
export LOG_LEVEL=${LOG_LEVEL:-warn}
npm run --silent build:web >/dev/null
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
# --test-force-exit: a test file whose failed test left peers or sockets open still ends
# (its failure is reported) instead of holding the whole run until the CI timeout; --test-timeout:
# a test that hangs (none should take 5 min) fails with its name instead of stalling CI.
exec bash test/netns.sh node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-force-exit --test-timeout=300000 "${files[@]}"
