#!/usr/bin/env bash
# Prints the Go build tags, comma-separated, for the C libraries this
# machine has for cgo:
#   pocketsphinx          libpocketsphinx-dev and its US-English model: the
#                         embedded speech engine
#   opus,nolibopusfile    libopus-dev: Opus on the browsers' WebRTC legs
#                         (nolibopusfile: the binding's Ogg file reader is
#                         not wanted, so libopusfile is not needed)
# Without them it prints nothing: the pure-Go build, whose 'sambung version'
# says what it lacks.
#   scripts/tags.sh           just tell
#   scripts/tags.sh install   install them from Debian first, when root
set -euo pipefail
# Both bindings find their library through pkg-config.
have_sphinx() { command -v pkg-config >/dev/null && [ -f /usr/include/pocketsphinx/pocketsphinx.h ] && [ -d /usr/share/pocketsphinx/model/en-us ]; }
have_opus() { command -v pkg-config >/dev/null && [ -f /usr/include/opus/opus.h ]; }
if [ "${1:-}" = install ] && ! { have_sphinx && have_opus; }; then
  pkgs="pkgconf libpocketsphinx-dev pocketsphinx-en-us libopus-dev"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "tags: installing $pkgs (the embedded speech engine, Opus)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs) >&2 \
      || echo "tags: could not install them; building without what is missing" >&2
  else
    echo "tags: $pkgs are not all installed (apt-get install them as root); building without what is missing" >&2
  fi
fi
tags=()
if have_sphinx; then tags+=(pocketsphinx); fi
if have_opus; then tags+=(opus nolibopusfile); fi
(IFS=,; echo "${tags[*]}")
