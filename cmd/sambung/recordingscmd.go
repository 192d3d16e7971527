package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

const recordingsUsage = `
Usage:
  sambung recordings keygen
  sambung recordings decrypt FILE [OUT]

keygen prints a new master key for recordings.encryption.keys: 32 random
bytes as 64 hex digits. Keep it in a file only its owner can read
(chmod 600) and name it in the configuration as ID=file:PATH, or in an
environment variable as ID=env:NAME. To rotate, add the new key first in
the list (or name it in recordings.encryption.current) and keep the old
ones: files sealed with them still play, and nothing is re-encrypted.

decrypt writes the WAV of a sealed recording (a .wav.enc file) to OUT, or
to standard output, with the keys the configuration names. A recording
cut off by a crash decrypts up to its last whole chunk. Every decryption
is in the audit trail.
`

func (e *env) recordings(ctx context.Context, args []string) int {
	fs := e.flagSet("recordings", recordingsUsage)
	cf := bindConfigFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	switch {
	case len(pos) == 1 && pos[0] == "keygen":
		key, err := recordings.GenerateKey()
		if err != nil {
			fmt.Fprintf(e.stderr, "sambung recordings keygen: %v\n", err)
			return exitError
		}
		fmt.Fprintln(e.stdout, key)
		return exitOK
	case len(pos) >= 2 && len(pos) <= 3 && pos[0] == "decrypt":
		return e.decryptRecording(ctx, cf, pos[1], pos[2:])
	}
	fmt.Fprintln(e.stderr, "sambung recordings: expected keygen, or decrypt FILE [OUT]; see sambung help recordings")
	return exitUsage
}

func (e *env) decryptRecording(ctx context.Context, cf *configFlags, file string, out []string) int {
	_, al, cfg, closeStores, code := e.commandStores(ctx, "recordings", cf)
	if code != exitOK {
		return code
	}
	defer closeStores()
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "sambung recordings decrypt: %v\n", err)
		_ = al.Record(ctx, store.AuditEvent{Actor: cliActor(), Action: "recording.decrypt", Target: filepath.Base(file),
			Outcome: "failed", Detail: map[string]string{"error": err.Error()}})
		return exitError
	}
	keys, err := cfg.Recordings.Encryption.keyring(e.environ)
	if err != nil {
		return fail(err)
	}
	if keys == nil {
		return fail(fmt.Errorf("no keys: recordings.encryption.keys is empty in this configuration"))
	}
	var w io.Writer = e.stdout
	var f *os.File
	if len(out) == 1 {
		if f, err = os.OpenFile(out[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fail(err)
		}
		w = f
	}
	err = recordings.DecryptTo(w, file, keys)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(out[0])
		}
	}
	if err != nil {
		return fail(err)
	}
	_ = al.Record(ctx, store.AuditEvent{Actor: cliActor(), Action: "recording.decrypt", Target: filepath.Base(file), Outcome: "ok"})
	return exitOK
}
