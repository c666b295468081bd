#!/usr/bin/env bash
# What tests/browser needs on a fresh Debian machine: headless Chromium and its WebDriver from Debian's
# packages, and axe-core (pinned) from npm into .local/cache/npm. Does nothing when all are there.
set -euo pipefail
cd "$(dirname "$0")/../.."
AXE_VERSION=4.11.0
AXE_DIR=.local/cache/npm

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/browser needs: ${missing[*]} (apt-get install as root)" >&2
    exit 1
  fi
  echo "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

installed=$(node -p "require('./$AXE_DIR/node_modules/axe-core/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$AXE_VERSION" ]; then
  echo "installing axe-core $AXE_VERSION from npm into $AXE_DIR"
  mkdir -p "$AXE_DIR"
  npm install --silent --no-audit --no-fund --save-exact --prefix "$AXE_DIR" "axe-core@$AXE_VERSION"
fi
