#!/usr/bin/env bash
# Prints the Go build tags for the embedded speech engine: "pocketsphinx"
# when libpocketsphinx-dev and its US-English model are installed, nothing
# otherwise (the pure-Go build, whose 'sambung version' says it has no
# embedded engine).
#   scripts/sphinx.sh           just tell
#   scripts/sphinx.sh install   install them from Debian first, when root
set -euo pipefail
have() { [ -f /usr/include/pocketsphinx/pocketsphinx.h ] && [ -d /usr/share/pocketsphinx/model/en-us ]; }
if [ "${1:-}" = install ] && ! have; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "sphinx: installing libpocketsphinx-dev and pocketsphinx-en-us (the embedded speech engine)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpocketsphinx-dev pocketsphinx-en-us) >&2 \
      || echo "sphinx: could not install them; building without the embedded engine" >&2
  else
    echo "sphinx: libpocketsphinx-dev and pocketsphinx-en-us are not installed (apt-get install them as root); building without the embedded engine" >&2
  fi
fi
if have; then echo pocketsphinx; fi
