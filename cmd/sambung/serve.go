package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/demo"
	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/sip"
	"github.com/sambung/sambung/store"
	"github.com/sambung/sambung/web"
)

const serveUsage = `
Usage: sambung serve [flags]

Runs the server: the web pages and API, and the telephone (SIP and RTP).

With no config file, the demo set-up runs: SQLite in ./data, pages on
http://127.0.0.1:8080/, SIP on 127.0.0.1:5060 (sip:demo@ reads back the
digits you press, sip:echo@ plays back what you say), every call recorded
under ./data/recordings, and on an empty database one user per role whose
logins are printed once.

On SIGINT or SIGTERM it drains: new calls get 503 and /readyz turns 503,
calls in progress run to their end (up to calls.drain_timeout), then it
exits.
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
		if err := seedScorecard(ctx, st); err != nil {
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
		DemoCRM:         demoCRM(cfg),
	}, st, al, log)
	if err != nil {
		return err
	}
	sp, err := newSpeech(cfg.ASR, e.environ, log)
	if err != nil {
		return err
	}
	fl, err := newFlows(cfg, sp, log)
	if err != nil {
		return err
	}
	acd, desk, err := newACD(cfg, st, al, log)
	if err != nil {
		return err
	}
	go publishFloor(ctx, acd, srv.Hub())
	desk.Alerts = cfg.alertConfig(func(a calls.Alert) {
		srv.Hub().Publish(web.Event{Type: "alert", At: a.At, Data: a}, store.RoleSupervisor, store.RoleAdmin)
	})
	if cfg.Demo {
		if err := seedDemoAgent(ctx, st, acd); err != nil {
			return err
		}
	}
	keys, err := cfg.Recordings.Encryption.keyring(e.environ)
	if err != nil {
		return err
	}
	sb, sipSrv, err := newTelephone(cfg, st, srv, fl, desk, keys, log)
	if err != nil {
		return err
	}
	jobsCtx, stopJobs := context.WithCancel(ctx)
	jobs := make(chan struct{})
	go func() {
		defer close(jobs)
		runRecordingJobs(jobsCtx, cfg, st, recordings.Dir{Path: recordingsDir(cfg), Keys: keys}, al, log)
	}()
	defer func() { stopJobs(); <-jobs }() // before the stores close
	srv.SetSoftphone(softphone{sb.Desk()})
	if d := sb.Desk(); d != nil {
		srv.SetSupervision(d)
	}
	if w := sb.WebCalls(); w != nil {
		srv.SetWebCalls(webCalls{w})
	}
	ln, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		_ = sipSrv.Close()
		return fmt.Errorf("web.listen %s: %w (pick another address with --listen)", cfg.Web.Listen, err)
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s/", scheme, browsable(ln.Addr().(*net.TCPAddr)))
	fl.rt.BaseURL = strings.TrimSuffix(url, "/") // lookups of paths on this server, such as the demo CRM
	log.Info("web: listening", "url", url, "node", cfg.Node)
	// One write, so whoever reads the first line has the rest.
	var banner strings.Builder
	fmt.Fprintf(&banner, "Sambung %s is up: %s\n  health  %shealthz\n  metrics %smetrics\n", version, url, url, url)
	addrs := sipSrv.Addrs()
	for _, a := range addrs.UDP {
		fmt.Fprintf(&banner, "  SIP/UDP sip:echo@%s (echo test), sip:demo@%s (%s)\n", a, a, lineName(fl))
	}
	for _, a := range addrs.TCP {
		fmt.Fprintf(&banner, "  SIP/TCP sip:echo@%s;transport=tcp\n", a)
	}
	_, _ = io.WriteString(e.stdout, banner.String())

	// Both servers run on a context that outlives SIGTERM: a signal first
	// drains, and only when the calls have ended do they stop.
	run, stopServers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServers()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(run, ln) }()
	go func() { errc <- sipSrv.Serve(run) }()
	go fl.watch(run)
	// The ACD and the desk run until the servers stop; the last calls'
	// hang-ups and wrap-ups still reach them while draining.
	routing := make(chan struct{}, 2)
	go func() {
		if err := acd.Run(run); err != nil {
			log.Error("agents: the ACD stopped", "err", err)
		}
		routing <- struct{}{}
	}()
	go func() { sb.Desk().Run(run); routing <- struct{}{} }()
	defer func() { stopServers(); <-routing; <-routing }()

	var failed error
	select {
	case <-ctx.Done():
		e.drain(cfg, sb, sipSrv, srv, log)
	case failed = <-errc: // a server could not run; stop the other
	}
	stopServers()
	errs := []error{failed}
	for range 2 - btoi(failed != nil) {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

// drain refuses new calls (SIP 503, /readyz 503) and waits for the calls in
// progress to end, up to calls.drain_timeout; then it hangs up the rest.
func (e *env) drain(cfg Config, sb *calls.Switchboard, sipSrv *sip.Server, srv *web.Server, log *slog.Logger) {
	sipSrv.Drain()
	srv.Drain()
	log.Info("draining: no new calls; waiting for the calls in progress", "calls", sb.Active(),
		"drain_timeout", cfg.Calls.DrainTimeout.String())
	wait := context.Background()
	if cfg.Calls.DrainTimeout > 0 {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(wait, cfg.Calls.DrainTimeout)
		defer cancel()
	}
	if err := sb.Wait(wait); err != nil {
		log.Warn("drain timeout: hanging up the calls still in progress", "err", err)
		sb.Shutdown()
		_ = sb.Wait(context.Background())
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// recordingsDir is where recordings are kept.
func recordingsDir(cfg Config) string {
	if cfg.Recordings.Dir != "" {
		return cfg.Recordings.Dir
	}
	return filepath.Join(cfg.DataDir, "recordings")
}

// runRecordingJobs deletes recordings past recordings.retention and fills
// the QA review queues by qa.sampling, at start and every hour until ctx
// ends. Every node runs them; each step is idempotent in the store.
func runRecordingJobs(ctx context.Context, cfg Config, st store.Store, files recordings.Storage, al *audit.Log, log *slog.Logger) {
	policy, sample, _ := cfg.QA.samplePolicy() // validated with the config
	run := func() {
		now := time.Now()
		if n, err := recordings.Expire(ctx, st, files, al, log, cfg.Recordings.Retention, now); err != nil {
			log.Error("recordings: retention failed; it runs again in an hour", "err", err)
		} else if n > 0 {
			log.Info("recordings past their retention deleted", "recordings", n)
		}
		if !sample {
			return
		}
		if n, err := recordings.FillReviewQueue(ctx, st, al, policy, uint64(cfg.QA.SamplingSeed), now); err != nil {
			log.Error("qa: sampling failed; it runs again in an hour", "err", err)
		} else if n > 0 {
			log.Info("qa: calls sampled for review", "calls", n, "period", recordings.Period(now))
		}
	}
	run()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		}
	}
}

// orphanDuration repairs a recording cut off by a crash and says how much
// it holds. A sealed one needs no repair: its reader leaves out a chunk
// the crash tore.
func orphanDuration(path string, keys *recordings.Keyring) (time.Duration, error) {
	if !strings.HasSuffix(path, recordings.SealedExt) {
		_, dur, err := recordings.Repair(path)
		return dur, err
	}
	f, err := recordings.OpenSealed(path, keys)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Duration(), nil
}

// finishOrphans repairs the recordings of calls cut off when this node last
// died, stores their length, and closes those calls' records.
func finishOrphans(st store.Store, node, recDir string, keys *recordings.Keyring, log *slog.Logger) error {
	ctx := context.Background()
	recs, err := st.UnfinishedRecordings(ctx, node)
	if err != nil {
		return err
	}
	for _, r := range recs {
		path := filepath.Join(recDir, filepath.FromSlash(r.Path))
		dur, err := orphanDuration(path, keys)
		if err != nil {
			log.Error("recording of a cut-off call is unrecoverable", "call_id", r.CallID, "path", path, "err", err)
		}
		var size int64
		if fi, err := os.Stat(path); err == nil {
			size = fi.Size()
		}
		if err := st.FinishRecording(ctx, r.ID, time.Time{}, dur, size); err != nil {
			return err
		}
	}
	n, err := st.EndOrphanedCalls(ctx, node, time.Time{}, "node_restart")
	if err != nil {
		return err
	}
	if n > 0 || len(recs) > 0 {
		log.Warn("closed the records of calls cut off when this node last stopped", "calls", n, "recordings", len(recs))
	}
	return nil
}

// newTelephone builds the switchboard and the SIP front end, repairing
// recordings a crash left behind first.
func newTelephone(cfg Config, st store.Store, srv *web.Server, fl *flows, desk *calls.DeskConfig, keys *recordings.Keyring,
	log *slog.Logger) (*calls.Switchboard, *sip.Server, error) {
	mediaIP := netip.MustParseAddr(cfg.Media.IP) // validated with the config
	recDir := recordingsDir(cfg)
	// Calls this node was handling when it last stopped without a goodbye
	// (a crash, kill -9) are over: repair and finish their recordings and
	// close their records before taking calls.
	if err := finishOrphans(st, cfg.Node, recDir, keys, log); err != nil {
		return nil, nil, err
	}
	// Recordings made before recording was turned off still play.
	srv.SetRecordings(recordings.Dir{Path: recDir, Keys: keys})
	if keys != nil {
		log.Info("recordings are sealed at rest", "key", keys.Current())
	}
	if !cfg.Recordings.Enabled {
		recDir = ""
	} else {
		rep, err := recordings.RepairDir(recDir, log)
		if err != nil {
			return nil, nil, fmt.Errorf("recordings.dir %s: %w", recDir, err)
		}
		if rep.Repaired > 0 || rep.Failed > 0 {
			log.Warn("recordings left by a crash", "repaired", rep.Repaired, "unrecoverable", rep.Failed)
		}
	}
	queues, _ := cfg.Recordings.queuePolicies() // validated with the config
	dialer := &sipDialer{uri: cfg.Calls.CallbackURI, from: cfg.Calls.CallerID}
	if dialer.uri == "" {
		dialer.uri = "sip:{number}@" + cfg.SIP.Realm
	}
	sb, err := calls.NewSwitchboard(calls.Config{
		Node: cfg.Node,
		// Calls back go out through the SIP server, made below.
		Dialer:   dialer,
		CallerID: cfg.Calls.CallerID,
		Media: media.SessionConfig{BindIP: mediaIP, PortMin: cfg.Media.PortMin, PortMax: cfg.Media.PortMax,
			MediaTimeout: cfg.Media.Timeout, JitterDelay: time.Duration(cfg.Media.JitterMs) * time.Millisecond},
		RecordingsDir:   recDir,
		RecordingKeys:   keys,
		QueuePolicies:   queues,
		MaxCallDuration: cfg.Calls.MaxDuration,
		Lines:           fl.lines,
		IVR:             fl.rt,
		Recognizer:      fl.speech.For,
		Desk:            desk,
		Web:             cfg.webCallConfig(),
		OnEvent: func(ev store.CallEvent) {
			srv.Hub().Publish(web.Event{Type: "call.event", At: ev.At, Data: map[string]any{
				"id": ev.ID, "call_id": ev.CallID, "kind": ev.Kind, "data": ev.Data}}, store.RoleSupervisor, store.RoleQA, store.RoleAdmin)
		},
	}, st, log)
	if err != nil {
		return nil, nil, err
	}
	sipSrv, err := sip.New(sip.Config{
		UDP: cfg.SIP.UDP, TCP: cfg.SIP.TCP, TLS: cfg.SIP.TLS, TLSCert: cfg.SIP.TLSCert, TLSKey: cfg.SIP.TLSKey,
		MaxMessageSize: cfg.SIP.MaxMessageSize, TCPReadTimeout: cfg.SIP.TCPReadTimeout,
		MaxConnsPerIP: cfg.SIP.MaxConnsPerIP, MaxCalls: cfg.SIP.MaxCalls,
		MaxCallDuration: cfg.Calls.MaxDuration + time.Minute, // calls ends them first
		UserAgent:       "Sambung/" + version, MediaIP: mediaIP,
		Realm:     cfg.SIP.Realm,
		Registrar: sip.RegistrarConfig{Enabled: cfg.SIP.Registrar, Algorithms: cfg.SIP.DigestAlgs},
	}, log)
	if err != nil {
		return nil, nil, fmt.Errorf("sip: %w (change the address with --sip.udp / --sip.tcp)", err)
	}
	dialer.srv = sipSrv
	if cfg.SIP.Registrar {
		sipSrv.SetAccounts(sipAccounts{st})
		sipSrv.SetBindings(sipBindings{st: st, node: cfg.Node})
	}
	sipSrv.OnInvite(func(_ context.Context, c *sip.InboundCall) { sb.HandleInbound(newSIPLeg(c)) })
	return sb, sipSrv, nil
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

// seedScorecard gives the demo a scorecard for QA, when it has none.
func seedScorecard(ctx context.Context, st store.Store) error {
	cards, err := st.Scorecards(ctx)
	if err != nil || len(cards) > 0 {
		return err
	}
	form, err := json.Marshal(recordings.DefaultForm())
	if err == nil {
		_, err = st.CreateScorecard(ctx, "Call quality", form, "demo")
	}
	if err != nil {
		return fmt.Errorf("demo scorecard: %w", err)
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

// demoCRM is the demo line's CRM when the demo flow answers calls.
func demoCRM(cfg Config) http.Handler {
	if cfg.Demo && cfg.IVR.Flows == "" {
		return demo.CRM()
	}
	return nil
}

// lineName says what answers sip:demo@, for the banner.
func lineName(fl *flows) string {
	if fl.lines.For("demo") != nil {
		return "the demo flow"
	}
	return "demo announcement"
}
