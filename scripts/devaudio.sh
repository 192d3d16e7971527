#!/usr/bin/env bash
# Renders the English and Indonesian rows of testdata/intents/*.tsv as
# speech with espeak-ng, for `sambung eval asr`: OUT/NNNN.LANG.wav (8 kHz,
# 16-bit mono, as a call carries it) and OUT/NNNN.LANG.txt, the reference
# transcript. Mandarin and Cantonese rows are left out: espeak-ng's voices
# for them are too poor to score a recognizer by.
#
#   bash scripts/devaudio.sh OUT [LIMIT]
#   go run ./cmd/sambung eval asr --engine NAME OUT
#
# LIMIT renders only the first LIMIT rows of each language.
set -euo pipefail
out=${1:?usage: scripts/devaudio.sh OUT [LIMIT]}
limit=${2:-0}
cd "$(dirname "$0")/.."
for prog in espeak-ng sox; do
	command -v "$prog" >/dev/null || { echo "devaudio: $prog is missing (Debian package $prog)" >&2; exit 1; }
done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A count=()
n=0
# Columns are found by the header line, as sambung eval intents does.
for tsv in testdata/intents/*.tsv; do
	awk -F'\t' '
		/^#/ || NF == 0 { next }
		!hdr { for (i = 1; i <= NF; i++) col[$i] = i; hdr = 1; next }
		{ print $(col["language"]) "\t" $(col["text"]) }
	' "$tsv"
done | while IFS=$'\t' read -r lang text; do
	case $lang in
	en) voice=en-us ;;
	id) voice=id ;;
	*) continue ;;
	esac
	count[$lang]=$(( ${count[$lang]:-0} + 1 ))
	if (( limit > 0 && count[$lang] > limit )); then
		continue
	fi
	n=$((n + 1))
	name=$(printf '%04d.%s' "$n" "$lang")
	espeak-ng -v "$voice" -w "$tmp/raw.wav" -- "$text"
	sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$name.wav"
	printf '%s\n' "$text" >"$out/$name.txt"
done
echo "devaudio: rendered $(ls "$out"/*.wav 2>/dev/null | wc -l) files into $out" >&2
