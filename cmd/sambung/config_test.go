package main

import (
	"flag"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/media"
)

const fixtures = "../../testdata/config/"

func resolve(t *testing.T, args []string, environ []string) (Config, []string, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf := bindConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return resolveConfig(cf, environ)
}

func TestConfigFileErrorsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		file string
		want []string // every piece must appear in the one-line message
	}{
		{"broken-syntax.yaml", []string{fixtures + "broken-syntax.yaml:4:", "not valid YAML", "expected ':'"}},
		{"unknown-key.yaml", []string{fixtures + "unknown-key.yaml:4:3:", `unknown key "web.lisen"`, `did you mean "web.listen"?`}},
		{"bad-duration.yaml", []string{fixtures + "bad-duration.yaml:2:16:", "web.session_ttl", "expected a duration", `"forever"`}},
		{"bad-enum.yaml", []string{fixtures + "bad-enum.yaml:2:10:", "log.level", "expected one of debug, info, warn, error", `"verbose"`}},
		{"bad-shape.yaml", []string{fixtures + "bad-shape.yaml:2:3:", "database", "expected a mapping", "a list"}},
		{"duplicate-key.yaml", []string{fixtures + "duplicate-key.yaml:", "listen"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, _, err := resolve(t, []string{"--config", fixtures + c.file}, nil)
			if err == nil {
				t.Fatal("bad config accepted")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestConfigGoodFile(t *testing.T) {
	cfg, warnings, err := resolve(t, []string{"--config", fixtures + "good.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	// What the file sets; everything else keeps its default.
	want := defaultConfig()
	want.DataDir, want.Node, want.Demo = "/var/lib/sambung", "node-a", false
	want.Log = LogConfig{Level: "debug", Format: "json"}
	want.Database = DatabaseConfig{URL: "postgres://sambung:s3cret@db.internal/sambung", MaxConns: 20}
	want.Web.Listen = "0.0.0.0:8443"
	want.Web.AllowedOrigins = []string{"https://wallboard.example.com"}
	want.Web.SessionTTL, want.Web.ShutdownTimeout = 8*time.Hour, 45*time.Second
	want.Audit.File = "/var/log/sambung/audit.log"
	if got, exp := marshalString(t, cfg), marshalString(t, want); got != exp {
		t.Errorf("got\n%s\nwant\n%s", got, exp)
	}
}

func marshalString(t *testing.T, c Config) string {
	t.Helper()
	b, err := marshalConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Defaults < file < environment < flags, for every kind of key.
func TestConfigPrecedence(t *testing.T) {
	env := []string{
		"SAMBUNG_WEB_LISTEN=127.0.0.1:7000",
		"SAMBUNG_WEB_SESSION_TTL=2h",
		"SAMBUNG_DATABASE_MAX_CONNS=7",
		"SAMBUNG_WEB_ALLOWED_ORIGINS=https://a.example, https://b.example",
		"SAMBUNG_LOG_FORMAT=text",
		"SAMBUNG_WEB_LISTN=typo",
		"PATH=/usr/bin",
	}
	cfg, warnings, err := resolve(t, []string{"--config", fixtures + "good.yaml", "--listen", "127.0.0.1:9000", "--demo"}, env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"flag beats env and file", cfg.Web.Listen, "127.0.0.1:9000"},
		{"env beats file (duration)", cfg.Web.SessionTTL, 2 * time.Hour},
		{"env beats file (int)", cfg.Database.MaxConns, 7},
		{"env beats file (enum)", cfg.Log.Format, "text"},
		{"env list", strings.Join(cfg.Web.AllowedOrigins, "|"), "https://a.example|https://b.example"},
		{"bool flag without value", cfg.Demo, true},
		{"file beats default", cfg.Node, "node-a"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "SAMBUNG_WEB_LISTN") {
		t.Errorf("want one warning about SAMBUNG_WEB_LISTN, got %v", warnings)
	}
}

func TestConfigNoFileIsDemo(t *testing.T) {
	cfg, _, err := resolve(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Demo || cfg.Database.URL != "" || cfg.Web.Listen != "127.0.0.1:8080" || cfg.DataDir != "data" {
		t.Errorf("no-config defaults are not the demo: %+v", cfg)
	}
	// With a file, demo users are opt-in.
	cfg, _, err = resolve(t, []string{"--config", fixtures + "unknown-key.yaml"}, nil)
	if err == nil {
		t.Fatalf("unknown key accepted: %+v", cfg)
	}
}

func TestConfigBadEnvAndFlagNameTheSource(t *testing.T) {
	_, _, err := resolve(t, nil, []string{"SAMBUNG_WEB_SESSION_TTL=soon"})
	if err == nil || !strings.Contains(err.Error(), "SAMBUNG_WEB_SESSION_TTL") || !strings.Contains(err.Error(), "web.session_ttl") {
		t.Errorf("bad env value: %v", err)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bindConfigFlags(fs)
	err = fs.Parse([]string{"--log.level", "loud"})
	if err == nil || !strings.Contains(err.Error(), "log.level") || !strings.Contains(err.Error(), "expected one of") {
		t.Errorf("bad flag value: %v", err)
	}
	_, _, err = resolve(t, []string{"--web.tls_cert", "cert.pem"}, nil)
	if err == nil || !strings.Contains(err.Error(), "web.tls_key") {
		t.Errorf("cert without key accepted: %v", err)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	// What `sambung config` prints is a valid config file.
	cfg, _, err := resolve(t, []string{"--config", fixtures + "good.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := marshalConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back := defaultConfig()
	if err := applyYAML(&back, "printed.yaml", out); err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, out)
	}
	if marshalString(t, back) != string(out) {
		t.Errorf("round trip changed the config:\n%s\nvs\n%s", marshalString(t, back), out)
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"postgres://sambung:s3cret@db/x":   "postgres://sambung:xxxxx@db/x",
		"postgres://sambung@db/x":          "postgres://sambung@db/x",
		"postgresql://u:p%40ss@h:5432/db":  "postgresql://u:xxxxx@h:5432/db",
		"":                                 "",
		"sqlite:/var/lib/sambung/x.db":     "sqlite:/var/lib/sambung/x.db",
		"postgres://h/db?password=visible": "postgres://h/db?password=visible",
	}
	for in, want := range cases {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	role := fs.String("role", "", "")
	pos, err := parseInterleaved(fs, []string{"add", "siti", "--role", "agent"})
	if err != nil || strings.Join(pos, ",") != "add,siti" || *role != "agent" {
		t.Errorf("got %v %v role=%q", pos, err, *role)
	}
}

func TestFlowCheck(t *testing.T) {
	code, out, _ := runCLI(t, "", "flow", "check", "../../testdata/flows/valid/demo.yaml")
	if code != 0 || !strings.Contains(out, "is fine") {
		t.Errorf("valid flow: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "flow", "check", "../../testdata/flows/broken/unknown_step.yaml")
	if code != exitError || !regexp.MustCompile(`unknown_step\.yaml:\d+:\d+: step "\w+" goes to "\w+"`).MatchString(out) {
		t.Errorf("broken flow: exit %d, want 1 and file:line:col\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "", "flow", "check", "/nonexistent.yaml"); code != exitError {
		t.Errorf("missing file: exit %d", code)
	}
}

// TestRedactedHidesSecrets: what 'sambung config' prints keeps no
// password, key or TURN credential.
func TestRedactedHidesSecrets(t *testing.T) {
	c := defaultConfig()
	c.Database.URL = "postgres://u:dbpass@h/db"
	c.ASR.APIKey = "asrkey"
	c.WebRTC.ICECredential = "turnpass"
	c.ASR.Recognizers = []string{"cloud=whisper-http url=https://u:recpass@h/v1 timeout=5s"}
	out := marshalString(t, c.redacted())
	if !strings.Contains(out, "cloud=whisper-http url=https://u:xxxxx@h/v1 timeout=5s") {
		t.Errorf("the printed config lost the recognizer:\n%s", out)
	}
	for _, secret := range []string{"dbpass", "asrkey", "turnpass", "recpass"} {
		if strings.Contains(out, secret) {
			t.Errorf("the printed config shows %q:\n%s", secret, out)
		}
	}
}

// TestWebCallLines: web calls are off unless lines are configured, except
// in the demo, which offers its own line; NUMBER=Name names a line, and
// a line with no number or limits under 1 are refused by key.
func TestWebCallLines(t *testing.T) {
	cfg, _, err := resolve(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.webCallConfig(); w == nil || len(w.Lines) != 1 || w.Lines[0].Number != "demo" || w.MaxCalls != 20 || w.PerMinute != 6 {
		t.Errorf("the demo's web calls: %+v", w)
	}
	cfg.Demo = false
	if w := cfg.webCallConfig(); w != nil {
		t.Errorf("without the demo and lines, web calls are on: %+v", w)
	}
	cfg, _, err = resolve(t, []string{"--webcall.lines", "support=Customer support, 1800"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.webCallConfig()
	if w == nil || len(w.Lines) != 2 || w.Lines[0] != (calls.WebLine{Number: "support", Name: "Customer support"}) || w.Lines[1].Number != "1800" {
		t.Errorf("lines: %+v", w)
	}
	for _, args := range [][]string{{"--webcall.lines", "=Nameless"}, {"--webcall.max_calls", "0"}} {
		if _, _, err := resolve(t, args, nil); err == nil || !strings.Contains(err.Error(), "webcall.") {
			t.Errorf("%v: %v, want an error naming the key", args, err)
		}
	}
}

// TestWebRTCCodecs: webrtc.codecs reaches the legs, and a codec the build
// lacks is refused at start, naming the key.
func TestWebRTCCodecs(t *testing.T) {
	cfg, _, err := resolve(t, []string{"--webrtc.codecs", "PCMU"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.webrtcConfig().Codecs; len(got) != 1 || got[0] != "PCMU" {
		t.Errorf("webrtc.codecs PCMU reached the legs as %v", got)
	}
	bad := []string{"G729"}
	if !media.OpusAvailable {
		bad = append(bad, "opus")
	}
	for _, c := range bad {
		if _, _, err := resolve(t, []string{"--webrtc.codecs", c}, nil); err == nil || !strings.Contains(err.Error(), "webrtc.codecs") || !strings.Contains(err.Error(), c) {
			t.Errorf("webrtc.codecs %s: %v, want an error naming the key and the codec", c, err)
		}
	}
}

func TestCallbackURI(t *testing.T) {
	if _, _, err := resolve(t, []string{"--calls.callback_uri", "sip:trunk.example.com"}, nil); err == nil || !strings.Contains(err.Error(), "calls.callback_uri") {
		t.Errorf("a callback URI without {number}: %v", err)
	}
	if _, _, err := resolve(t, []string{"--calls.callback_uri", "sip:{number}@trunk.example.com"}, nil); err != nil {
		t.Errorf("a good callback URI: %v", err)
	}
}

// TestWidenAndOverflow: agents.widen and agents.overflow reach the ACD's
// queues (steps in order of their wait, drops of one wait together), and
// a queue that is not configured, a bad wait or a bad shape name the key.
func TestWidenAndOverflow(t *testing.T) {
	cfg, _, err := resolve(t, []string{"--agents.queues", "support:20s,general",
		"--agents.widen", "support:60s:language:,support:30s:intent:,support:30s:tier:gold",
		"--agents.overflow", "support:2m:general"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := cfg.agentsConfig()
	if err != nil {
		t.Fatal(err)
	}
	q := ac.Queues[0]
	if len(q.Widen) != 2 || q.Widen[0].After != 30*time.Second || !slices.Equal(q.Widen[0].Drop, []string{"intent:", "tier:gold"}) ||
		q.Widen[1].After != time.Minute || q.Overflow == nil || q.Overflow.To != "general" || q.Overflow.After != 2*time.Minute {
		t.Errorf("support: %+v", q)
	}
	for _, args := range [][]string{
		{"--agents.widen", "nowhere:30s:intent:"},
		{"--agents.widen", "support:soon:intent:"},
		{"--agents.widen", "support:30s"},
		{"--agents.overflow", "support:2m:nowhere"},
		{"--agents.overflow", "support:2m"},
	} {
		_, _, err := resolve(t, append([]string{"--agents.queues", "support"}, args...), nil)
		if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(args[0], "--")) {
			t.Errorf("%v: %v, want an error naming the key", args, err)
		}
	}
}

// TestAlertsConfig: the alerts keys reach the desk (0 meaning never), and
// a webhook that is not an http URL or a negative wait is refused at start,
// naming the key.
func TestAlertsConfig(t *testing.T) {
	cfg, _, err := resolve(t, []string{"--alerts.webhook", "https://hooks.example.com/sambung", "--alerts.long_hold", "0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ac := cfg.alertConfig(nil)
	if ac.Webhook != "https://hooks.example.com/sambung" || ac.LongHold >= 0 || ac.AwayTooLong != 15*time.Minute {
		t.Errorf("alerts reach the desk as %+v", ac)
	}
	for _, args := range [][]string{{"--alerts.webhook", "hooks.example.com"}, {"--alerts.webhook", "ftp://x/y"}, {"--alerts.away_too_long", "-1m"}} {
		if _, _, err := resolve(t, args, nil); err == nil || !strings.Contains(err.Error(), "alerts.") {
			t.Errorf("%v: %v, want an error naming the key", args, err)
		}
	}
}

func TestQAAndRetentionConfig(t *testing.T) {
	cfg, _, err := resolve(t, []string{"--qa.sampling", "rate=10%,min_per_agent=3", "--recordings.retention", "2160h"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, on, err := cfg.QA.samplePolicy(); err != nil || !on || p.Rate != 0.1 || p.MinPerAgent != 3 || cfg.Recordings.Retention != 90*24*time.Hour {
		t.Errorf("policy %+v on %v (%v), retention %v", p, on, err, cfg.Recordings.Retention)
	}
	if cfg, _, err := resolve(t, []string{"--qa.sampling", "off"}, nil); err != nil {
		t.Error(err)
	} else if _, on, _ := cfg.QA.samplePolicy(); on {
		t.Error("qa.sampling off still samples")
	}
	if cfg, _, err := resolve(t, []string{"--recordings.queues", "sales=none,support=20%:90d"}, nil); err != nil {
		t.Error(err)
	} else if qp, err := cfg.Recordings.queuePolicies(); err != nil || qp["sales"].Share != 0 || qp["support"].Share != 0.2 ||
		qp["support"].Retain != 90*24*time.Hour {
		t.Errorf("queue policies %+v, %v", qp, err)
	}
	for _, args := range [][]string{{"--qa.sampling", "rate=150%"}, {"--recordings.retention", "-1h"},
		{"--recordings.queues", "sales=sometimes"}, {"--recordings.queues", "support=all:forever"},
		{"--recordings.encryption.keys", "2026=/etc/key"}} {
		_, _, err := resolve(t, args, nil)
		if key := strings.TrimPrefix(args[0], "--"); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%v: %v, want an error naming %s", args, err, key)
		}
	}
}
