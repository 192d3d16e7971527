// Command sambung is the one Sambung binary: the server and the tools around
// it. Run `sambung help` for the commands.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line or the configuration is wrong
)

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}
	os.Exit(e.run(context.Background(), os.Args[1:]))
}

// env is what a command gets from the outside world; tests supply their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

type command struct {
	name, summary string
	run           func(e *env, ctx context.Context, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "run the server (with no config: the demo set-up)", (*env).serve},
		{"user", "add, list, disable, enable users and set passwords", (*env).user},
		{"phone", "add, list, disable, enable SIP phone accounts (desk phones, trunks)", (*env).phone},
		{"agent", "give agents skills, a team and a level; list and show agents (agent set|list|show)", (*env).agent},
		{"flow", "check, simulate and test IVR flows; their JSON Schema; render their prompts (flow check|simulate|test|schema|prompts)", (*env).flow},
		{"recordings", "make keys for sealed recordings and decrypt one (recordings keygen|decrypt)", (*env).recordings},
		{"eval", "score intent classification and speech recognition on labelled data (eval intents|asr)", (*env).eval},
		{"config", "print the effective configuration, or every key (--keys)", (*env).config},
		{"version", "print the version", (*env).version},
	}
}

const usageHead = `Sambung answers phone and web calls, runs an IVR that understands what
callers say, and puts the rest through to agents with the whole context.

Usage:
  sambung <command> [arguments]

Commands:
`

const usageTail = `
Start here:
  sambung serve                      the demo: pages on http://127.0.0.1:8080/, SIP on 127.0.0.1:5060
  sambung serve --config prod.yaml   your own set-up
  sambung help <command>             more about one command

Every configuration key can be set in the YAML file, by environment variable
(SAMBUNG_WEB_LISTEN) or by flag (--web.listen); see sambung config --keys.
`

func (e *env) usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageTail)
}

func (e *env) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		e.usage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return e.run(ctx, []string{args[1], "--help"})
		}
		e.usage(e.stdout)
		return exitOK
	case "--version", "-version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(e, ctx, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "sambung: unknown command %q; run 'sambung help' for the list\n", name)
	return exitUsage
}

func (e *env) version(ctx context.Context, args []string) int {
	fmt.Fprintf(e.stdout, "sambung %s (%s, %s/%s%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, revision())
	engines := strings.Join(asr.Engines(), ", ")
	if !slices.Contains(asr.Engines(), "pocketsphinx") {
		engines += " (no embedded engine: build with 'make build' where libpocketsphinx-dev is installed)"
	}
	fmt.Fprintf(e.stdout, "speech engines: %s\n", engines)
	codecs := strings.Join(webrtc.Codecs(), ", ")
	if !media.OpusAvailable {
		codecs += " (no Opus: build with 'make build' where libopus-dev is installed)"
	}
	fmt.Fprintf(e.stdout, "browser audio codecs: %s\n", codecs)
	return exitOK
}

func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return ", " + s.Value[:12]
		}
	}
	return ""
}

// flagSet makes a FlagSet whose -h prints usage text and the flags.
func (e *env) flagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), strings.TrimLeft(usage, "\n"))
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseErr turns a flag parse error into an exit code (help is not an error).
func parseErr(err error) int {
	if err == flag.ErrHelp {
		return exitOK
	}
	return exitUsage
}

// loadConfig resolves the configuration, reporting problems on stderr.
func (e *env) loadConfig(cf *configFlags) (Config, bool) {
	cfg, warnings, err := resolveConfig(cf, e.environ)
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung: %v\n", err)
		return cfg, false
	}
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "sambung: warning: %s\n", w)
	}
	return cfg, true
}

// newLogger makes the server log: text on a terminal, JSON otherwise.
func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level)) // validated by the config's oneof
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Format
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func storeConfig(cfg Config) store.Config {
	return store.Config{URL: cfg.Database.URL, DataDir: cfg.DataDir, MaxConns: cfg.Database.MaxConns}
}

func auditPath(cfg Config) string {
	if cfg.Audit.File != "" {
		return cfg.Audit.File
	}
	return cfg.DataDir + string(os.PathSeparator) + "audit.log"
}

// commandStores is how a command that changes the database starts: resolve
// the configuration, log problems only (commands speak on stdout), open the
// database and the audit trail. On failure it has reported on stderr and
// returns the exit code.
func (e *env) commandStores(ctx context.Context, name string, cf *configFlags) (store.Store, *audit.Log, Config, func(), int) {
	cfg, ok := e.loadConfig(cf)
	if !ok {
		return nil, nil, cfg, nil, exitUsage
	}
	log := newLogger(LogConfig{Level: "warn", Format: "text"}, e.stderr)
	st, al, closeStores, err := openStores(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung %s: %v\n", name, err)
		return nil, nil, cfg, nil, exitError
	}
	return st, al, cfg, closeStores, exitOK
}

// openStores opens the database and the audit trail; close undoes both.
func openStores(ctx context.Context, cfg Config, log *slog.Logger) (st store.Store, al *audit.Log, close func(), err error) {
	st, err = store.Open(ctx, storeConfig(cfg), log)
	if err != nil {
		return nil, nil, nil, err
	}
	al, err = audit.New(st, auditPath(cfg), log)
	if err != nil {
		_ = st.Close()
		return nil, nil, nil, err
	}
	return st, al, func() {
		if err := al.Close(); err != nil {
			log.Error("audit log close", "err", err)
		}
		if err := st.Close(); err != nil {
			log.Error("store close", "err", err)
		}
	}, nil
}
