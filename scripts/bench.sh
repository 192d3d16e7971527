#!/usr/bin/env bash
# Runs the benchmarks that make bench reports, on SQLite and on a private
# PostgreSQL cluster for this run (scripts/testpg.sh; installed if missing),
# so that the store's figures (BenchmarkSearchCalls, BenchmarkQueueToRing)
# cover both engines. Then a bridged call's media cost over 500 ticks, for
# a steady figure.
set -euo pipefail
cd "$(dirname "$0")/.."

pgdir=$(mktemp -d /tmp/sambung-pg.XXXXXX)
cleanup() { bash scripts/testpg.sh stop "$pgdir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if url=$(bash scripts/testpg.sh start "$pgdir"); then
	export SAMBUNG_TEST_POSTGRES=$url
else
	echo "bench: no PostgreSQL cluster; the PostgreSQL figures are left out" >&2
fi

tags=$(bash scripts/tags.sh)
go test -tags "$tags" -run '^$' -bench . -skip BridgedCall -benchmem "${@:-./...}"
go test -run '^$' -bench BridgedCall -benchtime 500x -benchmem ./calls
