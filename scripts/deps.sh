#!/usr/bin/env bash
# Installs what `make test` needs on a bare Debian machine, and nothing that
# is already there: Chromium (browser tests), Node's playwright-core (drives
# it), real SIP peers (baresip, linphonec, SIPp, sipsak) with speech and audio tools (espeak-ng,
# sox), and PostgreSQL (scripts/testpg.sh installs it when it starts a cluster).
# Safe to run again; quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v baresip >/dev/null 2>&1 || need_apt+=(baresip-core)
command -v sipp >/dev/null 2>&1 || need_apt+=(sip-tester)
command -v sipsak >/dev/null 2>&1 || need_apt+=(sipsak)
command -v linphonec >/dev/null 2>&1 || need_apt+=(linphone-cli)
command -v sox >/dev/null 2>&1 || need_apt+=(sox libsox-fmt-all)
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
# The embedded recognizer (go build -tags pocketsphinx): library and US-English model.
[ -f /usr/include/pocketsphinx/pocketsphinx.h ] || need_apt+=(libpocketsphinx-dev)
[ -d /usr/share/pocketsphinx/model/en-us ] || need_apt+=(pocketsphinx-en-us)
# Opus on the browsers' legs (go build -tags opus).
[ -f /usr/include/opus/opus.h ] || need_apt+=(libopus-dev)
# Both cgo bindings find their library through pkg-config.
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkgconf)
# Pages render text: without any font Chromium draws nothing legible.
[ -d /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]} from Debian"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "deps: need root (or sudo) to install: ${need_apt[*]}" >&2; exit 1
    fi
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# playwright-core only drives a browser; it never downloads one.
if [ ! -d web/e2e/node_modules/playwright-core ] || [ web/e2e/package-lock.json -nt web/e2e/node_modules/.package-lock.json ]; then
  echo "deps: npm ci in web/e2e"
  (cd web/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
