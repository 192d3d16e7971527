package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

const recordingsUsage = `
Usage:
  sambung recordings keygen
  sambung recordings decrypt FILE [OUT]
  sambung recordings hold CALL --reason TEXT
  sambung recordings release CALL
  sambung recordings erase --caller NUMBER

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

hold puts a call on legal hold: retention and erasure leave it, its
recording and its timeline alone until release. erase deletes everything
about one caller (every call from NUMBER, exactly as the calls have it:
recordings, transcripts, timelines, evaluations, comments); a call of
theirs on hold stops it before anything is erased. Each is audited; the
audit trail names an erased caller by a digest, not the number.
`

func (e *env) recordings(ctx context.Context, args []string) int {
	fs := e.flagSet("recordings", recordingsUsage)
	cf := bindConfigFlags(fs)
	reason := fs.String("reason", "", "for hold: why the call is held (a case, a request)")
	caller := fs.String("caller", "", "for erase: the caller whose calls are erased")
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
	case len(pos) == 2 && (pos[0] == "hold" || pos[0] == "release"):
		return e.holdCall(ctx, cf, pos[1], pos[0] == "hold", *reason)
	case len(pos) == 1 && pos[0] == "erase" && *caller != "":
		return e.erase(ctx, cf, *caller)
	}
	fmt.Fprintln(e.stderr, "sambung recordings: expected keygen, decrypt FILE [OUT], hold CALL --reason TEXT, release CALL or erase --caller NUMBER; see sambung help recordings")
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

func (e *env) holdCall(ctx context.Context, cf *configFlags, id string, on bool, reason string) int {
	st, al, _, closeStores, code := e.commandStores(ctx, "recordings", cf)
	if code != exitOK {
		return code
	}
	defer closeStores()
	action, outcome := "call.release", "ok"
	if on {
		action = "call.hold"
	}
	err := st.SetLegalHold(ctx, id, on, cliActor(), reason)
	if err != nil {
		outcome = "failed"
	}
	_ = al.Record(ctx, store.AuditEvent{Actor: cliActor(), Action: action, Target: id, Outcome: outcome, Detail: map[string]string{"reason": reason}})
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung recordings %s: %v\n", strings.TrimPrefix(action, "call."), err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", id, map[bool]string{true: "on legal hold", false: "released"}[on])
	return exitOK
}

func (e *env) erase(ctx context.Context, cf *configFlags, caller string) int {
	st, al, cfg, closeStores, code := e.commandStores(ctx, "recordings", cf)
	if code != exitOK {
		return code
	}
	defer closeStores()
	keys, err := cfg.Recordings.Encryption.keyring(e.environ)
	if err == nil {
		var er recordings.Erasure
		er, err = recordings.EraseCaller(ctx, st, recordings.Dir{Path: recordingsDir(cfg), Keys: keys}, al, cliActor(), caller)
		if err == nil {
			fmt.Fprintf(e.stdout, "erased %d calls and %d recording files of %s\n", er.Calls, er.Files, recordings.CallerRef(caller))
			return exitOK
		}
	}
	fmt.Fprintf(e.stderr, "sambung recordings erase: %v\n", err)
	return exitError
}
