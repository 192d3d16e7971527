#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each: an execution
# count (10000x) rather than a duration. Go 1.26's fuzz coordinator can
# fail a duration-bounded run with a bare "context deadline exceeded" when a
# busy worker misses the deadline (golang/go#75804, fixed in Go 1.27); a
# count has no deadline to race. make test runs 10000 inputs a target;
# make fuzz runs more. Inputs a target finds failing are saved under its
# package's testdata/fuzz/ and fail the run: commit them as regression seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10000x}
found=0
while IFS= read -r file; do
  dir=./$(dirname "${file#./}")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "fuzz: $dir $fn, $fuzztime"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" "$dir"
    found=$((found + 1))
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort)
echo "fuzz: $found targets ran $fuzztime each, nothing found"
