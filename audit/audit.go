// Package audit owns Sambung's audit trail: logins, failed logins, admin and
// supervisor actions, recording playback. Each event goes to two places: a
// JSON-lines file (one event per line, for log shippers and for reading when
// the database is down) and the database (for the admin page and queries).
//
// Events carry who, what, on what, from where and how it went; the writer
// refuses detail keys that name secrets, so a careless caller cannot put a
// password or token into the trail.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sambung/sambung/store"
)

// Log writes audit events to a file and a store. It is safe for concurrent use.
type Log struct {
	db   store.Audit
	log  *slog.Logger
	mu   sync.Mutex
	file *os.File
	enc  *json.Encoder

	// OnRecord, if set, is called with every stored event (e.g. to push it
	// to live admin pages). It must not block.
	OnRecord func(store.AuditEvent)
}

// New opens (creating if needed) the JSON-lines file at path and returns a
// Log writing to it and to db.
func New(db store.Audit, path string, log *slog.Logger) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &Log{db: db, log: log, file: f, enc: json.NewEncoder(f)}, nil
}

// line is the JSON shape of one event in the file. Field names are stable:
// log shippers parse them.
type line struct {
	At         time.Time         `json:"at"`
	Actor      string            `json:"actor"`
	Action     string            `json:"action"`
	Target     string            `json:"target,omitempty"`
	RemoteAddr string            `json:"remote_addr,omitempty"`
	Outcome    string            `json:"outcome"`
	Detail     map[string]string `json:"detail,omitempty"`
	ID         int64             `json:"id,omitempty"`
}

// secretWords are detail keys an audit event must never carry.
var secretWords = []string{"password", "passwd", "secret", "token", "cookie", "card", "cvv"}

// Record writes e to the file and the store. It fills At (now) and Outcome
// ("ok") when empty. Detail keys naming a secret are dropped and the drop is
// logged. The event reaches the file even when the store fails; the store's
// error is returned.
func (l *Log) Record(ctx context.Context, e store.AuditEvent) error {
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	e.Detail = l.scrub(e.Action, e.Detail)

	stored, dbErr := l.db.AppendAudit(ctx, e)
	if dbErr == nil {
		e = stored
	}
	l.mu.Lock()
	fileErr := l.enc.Encode(line{At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target,
		RemoteAddr: e.RemoteAddr, Outcome: e.Outcome, Detail: e.Detail, ID: e.ID})
	l.mu.Unlock()
	if fileErr != nil {
		l.log.Error("audit file write failed", "action", e.Action, "err", fileErr)
	}
	if dbErr != nil {
		l.log.Error("audit store write failed; event kept in the audit file", "action", e.Action, "err", dbErr)
		return fmt.Errorf("audit %s: %w", e.Action, dbErr)
	}
	if l.OnRecord != nil {
		l.OnRecord(e)
	}
	return fileErr
}

func (l *Log) scrub(action string, d map[string]string) map[string]string {
	var out map[string]string
	for k, v := range d {
		if isSecretKey(k) {
			l.log.Warn("audit detail key dropped: it names a secret", "action", action, "key", k)
			continue
		}
		if out == nil {
			out = make(map[string]string, len(d))
		}
		out[k] = v
	}
	return out
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Close flushes and closes the file. It is idempotent.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := errors.Join(l.file.Sync(), l.file.Close())
	l.file = nil
	l.enc = json.NewEncoder(closedWriter{})
	return err
}

type closedWriter struct{}

func (closedWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }
