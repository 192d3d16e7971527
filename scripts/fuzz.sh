#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 20s).
# make test runs it briefly (5s a target); make fuzz runs it longer.
# Inputs a target finds failing are saved under its package's
# testdata/fuzz/ and fail the run: commit them as regression seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20s}
found=0
while IFS= read -r file; do
  dir=./$(dirname "${file#./}")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "fuzz: $dir $fn for $fuzztime"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" "$dir"
    found=$((found + 1))
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort)
echo "fuzz: $found targets ran for $fuzztime each, nothing found"
