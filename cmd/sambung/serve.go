package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/store"
	"github.com/sambung/sambung/web"
)

const serveUsage = `
Usage: sambung serve [flags]

Runs the server until SIGINT or SIGTERM, then drains: /readyz turns 503,
in-flight requests finish (up to web.shutdown_timeout), and the database is
closed.

With no config file, the demo set-up runs: SQLite in ./data, pages on
http://127.0.0.1:8080/, and on an empty database one user per role whose
logins are printed once.
`

func (e *env) serve(ctx context.Context, args []string) int {
	fs := e.flagSet("serve", serveUsage)
	cf := bindConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return parseErr(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "sambung serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, ok := e.loadConfig(cf)
	if !ok {
		return exitUsage
	}
	log := newLogger(cfg.Log, e.stderr)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := e.runServer(ctx, cfg, log); err != nil {
		log.Error("sambung stopped with an error", "err", err)
		fmt.Fprintf(e.stderr, "sambung: %v\n", err)
		return exitError
	}
	log.Info("sambung stopped")
	return exitOK
}

func (e *env) runServer(ctx context.Context, cfg Config, log *slog.Logger) error {
	var tlsCfg *tls.Config
	if cfg.Web.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Web.TLSCert, cfg.Web.TLSKey)
		if err != nil {
			return fmt.Errorf("web.tls_cert/web.tls_key: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	st, al, closeStores, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStores()
	log.Info("store open", "engine", st.Engine())

	if cfg.Demo {
		if err := seedDemo(ctx, st, al, e.stdout); err != nil {
			return err
		}
	}
	srv, err := web.New(web.Config{
		SessionTTL:      cfg.Web.SessionTTL,
		InsecureCookies: cfg.Web.InsecureCookies,
		AllowedOrigins:  cfg.Web.AllowedOrigins,
		ShutdownTimeout: cfg.Web.ShutdownTimeout,
		TLS:             tlsCfg,
		Node:            cfg.Node,
		Version:         version,
	}, st, al, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return fmt.Errorf("web.listen %s: %w (pick another address with --listen)", cfg.Web.Listen, err)
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s/", scheme, browsable(ln.Addr().(*net.TCPAddr)))
	log.Info("web: listening", "url", url, "node", cfg.Node)
	fmt.Fprintf(e.stdout, "Sambung %s is up: %s\n  health  %shealthz\n  metrics %smetrics\n", version, url, url, url)
	return srv.Serve(ctx, ln)
}

// browsable is an address a person can open: a wildcard listener is
// reachable on loopback.
func browsable(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", a.Port)
	}
	return a.String()
}

// seedDemo creates one user per role on an empty database and prints their
// logins once. Another node seeding at the same moment is not an error.
func seedDemo(ctx context.Context, st store.Store, al *audit.Log, out io.Writer) error {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if n > 0 {
		return nil
	}
	acc := web.Accounts{Store: st, Audit: al}
	var lines []string
	for _, role := range store.Roles {
		pw := demoPassword()
		name := string(role)
		_, err := acc.Add(ctx, web.Actor{Name: "system"}, name, demoDisplayName[role], role, pw)
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		lines = append(lines, fmt.Sprintf("  %-11s %-11s %s", role, name, pw))
	}
	if len(lines) == 0 {
		return nil
	}
	fmt.Fprintln(out, "Demo logins (shown only now; change one with 'sambung user passwd NAME'):")
	fmt.Fprintf(out, "  %-11s %-11s %s\n", "ROLE", "NAME", "PASSWORD")
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return nil
}

var demoDisplayName = map[store.Role]string{
	store.RoleAgent:      "Ayu (demo agent)",
	store.RoleSupervisor: "Budi (demo supervisor)",
	store.RoleQA:         "Mei (demo QA)",
	store.RoleAdmin:      "Demo admin",
}

// demoPassword is random and easy to type: three groups of four base32
// characters (60 bits).
func demoPassword() string {
	t := strings.ToLower(rand.Text())
	return t[0:4] + "-" + t[4:8] + "-" + t[8:12]
}
