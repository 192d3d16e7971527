#!/usr/bin/env bash
# Runs every test against real peers: a private PostgreSQL cluster for this
# run (no TCP port; a socket in a temp dir), Chromium, and the race detector.
# SAMBUNG_REQUIRE_PEERS=1 turns a missing peer into a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

pgdir=$(mktemp -d /tmp/sambung-pg.XXXXXX)
cleanup() { bash scripts/testpg.sh stop "$pgdir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
SAMBUNG_TEST_POSTGRES=$(bash scripts/testpg.sh start "$pgdir")
export SAMBUNG_TEST_POSTGRES
export SAMBUNG_REQUIRE_PEERS=1

# The embedded speech engine is built in when deps.sh installed it; the
# tests of the binary build it with the same tags (GOFLAGS).
tags=$(bash scripts/tags.sh)
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=${tags:-none}"
go test -race -count=1 -timeout 15m "${@:-./...}"
