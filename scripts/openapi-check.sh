#!/usr/bin/env bash
# The OpenAPI check of the example apps: validates the document both apps serve at
# /openapi.json (openapi-spec-validator, OpenAPI 3.1) and their real answers against it
# (openapi-core), driving each app binary through login, create, list, revoke and the 400, 401,
# 403, 404, 405, 409 and 413 errors (examples/test-support/src/openapi.rs), and prints the
# validator's output for both apps.
#
#   scripts/openapi-check.sh
#
# The Python packages go into a venv under the target directory ($CARGO_TARGET_DIR when set,
# else target/ in the repository): $target/openapi-venv, re-made when
# scripts/openapi-requirements.txt changes. Needs python3 with its venv module, and PyPI.
# Without python3 the check is skipped, saying so, unless CI=true, CLAB_KEYS_REQUIRE_BROWSER=1
# or CLAB_KEYS_REQUIRE_OPENAPI=1 is set, which make it a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/openapi-venv"
requirements="$root/scripts/openapi-requirements.txt"

required() {
  [ "${CI:-}" = "true" ] || [ "${CLAB_KEYS_REQUIRE_BROWSER:-}" = "1" ] || [ "${CLAB_KEYS_REQUIRE_OPENAPI:-}" = "1" ]
}

missing() {
  echo "$1"
  if required; then
    echo "error: the OpenAPI check is required here (CI, CLAB_KEYS_REQUIRE_BROWSER=1 or CLAB_KEYS_REQUIRE_OPENAPI=1)"
    exit 1
  fi
  echo "skipped: OpenAPI check (install python3 with venv to run it)"
  exit 0
}

python=$(command -v python3 || true)
[ -n "$python" ] || missing "python3 not found: the OpenAPI check needs Python 3 (Debian: apt-get install python3 python3-venv)"
"$python" -c 'import venv, ensurepip' 2>/dev/null \
  || missing "python3 ($("$python" --version 2>&1)) has no venv/ensurepip module (Debian: apt-get install python3-venv)"

# A venv per requirements file: re-made when the pins change.
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  echo "making $venv ($("$python" --version 2>&1))"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi
"$venv/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(openapi-core|openapi-spec-validator|jsonschema) ' || true

export CLAB_KEYS_OPENAPI_PYTHON="$venv/bin/python"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test -p axum-app -p actix-app --locked --test openapi -- --nocapture 2>&1 | tee "$log"
if grep -q "skipped: OpenAPI validation" "$log"; then
  echo "error: an app's OpenAPI validation was skipped although $CLAB_KEYS_OPENAPI_PYTHON was set"
  exit 1
fi
for app in axum-app actix-app; do
  grep -q "^$app: [0-9]* passed, 0 failed$" "$log" || { echo "error: no passing validation for $app"; exit 1; }
done
echo "openapi check: both apps conform to their document"
