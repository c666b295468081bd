#!/usr/bin/env bash
# What tests/e2e/browser needs on a fresh Debian machine: headless Chromium and its WebDriver from
# Debian's packages (installed when missing), and axe-core (pinned, from npm_assets.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/e2e/browser needs: ${missing[*]} (apt-get install them as root)" >&2
    exit 1
  fi
  echo "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
deploy/local/npm_assets.sh
