#!/usr/bin/env bash
# Renders the demo's prompts with espeak-ng, 8 kHz mono 16-bit PCM, the
# engine's own format. The WAVs are committed, so running the demo needs no
# TTS; run this only after changing the wording.
#   calls/prompts/*.wav   the built-in announcement and echo test, by name
#   demo/prompts/*.wav    everything the demo flow may say (sambung flow prompts)
set -euo pipefail
cd "$(dirname "$0")/.."
for p in espeak-ng sox; do command -v $p >/dev/null || { echo "prompts: $p is missing (apt-get install espeak-ng sox)" >&2; exit 1; }; done

say() { # name text
  espeak-ng -v en-us -s 150 -w "/tmp/prompt-$1.raw.wav" "$2"
  sox "/tmp/prompt-$1.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "calls/prompts/$1.wav" norm -3
  rm -f "/tmp/prompt-$1.raw.wav"
}

say disclosure "Hello. You are speaking with Sambung, an automated assistant. This call is recorded."
say demo-menu  "This is the Sambung demo line. Enter some digits on your keypad, then press the hash key."
say you-entered "You entered"
say no-digits  "I did not hear any digits."
say goodbye    "Thank you for calling. Goodbye."
say echo       "Echo test. Speak, and you will hear yourself."
names=(zero one two three four five six seven eight nine)
for d in 0 1 2 3 4 5 6 7 8 9; do say "digit-$d" "${names[$d]}"; done
say digit-star star
say digit-hash hash

go run ./cmd/sambung flow prompts --out demo/prompts demo/flows/default.yaml
