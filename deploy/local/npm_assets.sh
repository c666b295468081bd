#!/usr/bin/env bash
# Browser assets we serve ourselves or test with, from npm, pinned and checked against their registry
# integrity: Swagger UI and the AsyncAPI component (the services' /docs and /asyncapi pages, offline) and
# axe-core (accessibility checks in tests/e2e/browser). Each is unpacked once into
# .local/cache/npm/<name>@<version>/ (only the tarball: no dependencies, no install scripts).
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=.local/cache/npm
PACKAGES=(
  "swagger-ui-dist@5.32.0 sha512-nKZB0OuDvacB0s/lC2gbge+RigYvGRGpLLMWMFxaTUwfM+CfndVk9Th2IaTinqXiz6Mn26GK2zriCpv6/+5m3Q=="
  "@asyncapi/react-component@3.1.5 sha512-Aq4I++uX6lOWxgBn+D7ly/GXasHjVcORz8eIGii8RgFjZ0i8mDth6LjFHb/yHVr3ANxLFLodXUgwEBhcSvfV/Q=="
  "axe-core@4.11.0 sha512-ilYanEU8vxxBexpJd8cWM4ElSQq4QctCLKih0TSfjIfCQTeyH/6zVrmIJfLPrKTKJRbiG+cfnZbQIjAlJmF1jQ=="
)

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "npm is missing: /docs and /asyncapi will say their assets are not installed (apt-get install npm)" >&2
    exit 0
  fi
  echo "installing npm from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi

for entry in "${PACKAGES[@]}"; do
  spec=${entry%% *}
  integrity=${entry#* }
  target="$CACHE/${spec//\//+}"
  [ -f "$target/.complete" ] && continue
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tarball=$(ls "$work"/*.tgz)
  actual=$(python3 -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")
  if [ "$actual" != "$integrity" ]; then
    echo "integrity mismatch for $spec: $actual" >&2
    exit 1
  fi
  rm -rf "$target" && mkdir -p "$target"
  tar -xzf "$tarball" -C "$target" --strip-components=1
  touch "$target/.complete"
  rm -rf "$work"
  echo "unpacked $spec into $target"
done
