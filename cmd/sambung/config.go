package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/recordings"
)

// Config is the whole configuration of a Sambung server, as written in the
// YAML file. Every leaf key can also be set by environment variable
// (SAMBUNG_ + the key path in capitals, dots as underscores) and by flag
// (--key.path). Precedence, lowest first: defaults, file, environment, flags.
//
// The help tag documents the key; `sambung config --keys` prints them all.
type Config struct {
	DataDir string `yaml:"data_dir" help:"directory for the SQLite database, the audit log and recordings"`
	Node    string `yaml:"node" help:"this server's name in call records and logs (default: the host name)"`
	Demo    bool   `yaml:"demo" help:"on an empty database, create one demo user per role and print their logins once (default: true without a config file, false with one)"`

	Log        LogConfig        `yaml:"log"`
	Database   DatabaseConfig   `yaml:"database"`
	Web        WebConfig        `yaml:"web"`
	Audit      AuditConfig      `yaml:"audit"`
	SIP        SIPConfig        `yaml:"sip"`
	Media      MediaConfig      `yaml:"media"`
	Calls      CallsConfig      `yaml:"calls"`
	Recordings RecordingsConfig `yaml:"recordings"`
	IVR        IVRConfig        `yaml:"ivr"`
	ASR        ASRConfig        `yaml:"asr"`
	Agents     AgentsConfig     `yaml:"agents"`
	WebRTC     WebRTCConfig     `yaml:"webrtc"`
	WebCall    WebCallConfig    `yaml:"webcall"`
	Alerts     AlertsConfig     `yaml:"alerts"`
	QA         QAConfig         `yaml:"qa"`
}

// LogConfig configures the server log.
type LogConfig struct {
	Level  string `yaml:"level" oneof:"debug,info,warn,error" help:"least important log level written"`
	Format string `yaml:"format" oneof:"auto,text,json" help:"auto is text on a terminal and JSON otherwise"`
}

// DatabaseConfig selects and sizes the database.
type DatabaseConfig struct {
	URL      string `yaml:"url" help:"empty for the embedded SQLite file in data_dir, sqlite:PATH, or postgres://user:pass@host/db"`
	MaxConns int    `yaml:"max_conns" help:"connection pool size (PostgreSQL)"`
}

// WebConfig configures the HTTP server: API, live events and pages.
type WebConfig struct {
	Listen          string        `yaml:"listen" help:"address for HTTP (host:port; port 0 picks a free one)"`
	TLSCert         string        `yaml:"tls_cert" help:"PEM certificate file; with tls_key, serve HTTPS"`
	TLSKey          string        `yaml:"tls_key" help:"PEM private key file for tls_cert"`
	AllowedOrigins  []string      `yaml:"allowed_origins" help:"extra origins (scheme://host:port) allowed to open the live-events WebSocket and post to the API"`
	SessionTTL      time.Duration `yaml:"session_ttl" help:"a login session ends after this long without activity"`
	InsecureCookies bool          `yaml:"insecure_cookies" help:"drop the Secure flag from cookies, for plain HTTP on a host other than localhost (not for production)"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" help:"on SIGTERM, how long to let in-flight requests finish"`
}

// AuditConfig configures the audit trail's JSON-lines file.
type AuditConfig struct {
	File string `yaml:"file" help:"JSON-lines audit file (default: data_dir/audit.log)"`
}

// SIPConfig configures the SIP front end.
type SIPConfig struct {
	UDP            []string      `yaml:"udp" help:"addresses (host:port) to take SIP over UDP on; port 0 picks a free one"`
	TCP            []string      `yaml:"tcp" help:"addresses (host:port) to take SIP over TCP on"`
	TLS            []string      `yaml:"tls" help:"addresses (host:port) to take SIP over TLS on (needs tls_cert and tls_key)"`
	TLSCert        string        `yaml:"tls_cert" help:"PEM certificate file for SIP over TLS"`
	TLSKey         string        `yaml:"tls_key" help:"PEM private key file for tls_cert"`
	MaxMessageSize int           `yaml:"max_message_size" help:"largest SIP message accepted, in bytes"`
	TCPReadTimeout time.Duration `yaml:"tcp_read_timeout" help:"a TCP or TLS connection silent this long is closed"`
	MaxConnsPerIP  int           `yaml:"max_conns_per_ip" help:"TCP and TLS connections allowed from one address"`
	MaxCalls       int           `yaml:"max_calls" help:"calls in progress at once; more are refused with 503"`
	Realm          string        `yaml:"realm" help:"SIP domain and digest realm of the phones that register here"`
	Registrar      bool          `yaml:"registrar" help:"let phones added with 'sambung phone add' register (digest authentication)"`
	DigestAlgs     []string      `yaml:"digest_algorithms" help:"digest algorithms offered, in order: SHA-256, MD5 (many phones read only the first; put MD5 first for old ones)"`
}

// MediaConfig configures RTP.
type MediaConfig struct {
	IP       string        `yaml:"ip" help:"address RTP binds to and announces in SDP"`
	PortMin  int           `yaml:"port_min" help:"lowest RTP port (even; RTCP takes the next one)"`
	PortMax  int           `yaml:"port_max" help:"highest RTP port"`
	Timeout  time.Duration `yaml:"timeout" help:"a call with no RTP from the caller for this long is hung up"`
	JitterMs int           `yaml:"jitter_ms" help:"jitter buffer delay for audio the server consumes, in milliseconds"`
}

// CallsConfig configures calls.
type CallsConfig struct {
	MaxDuration  time.Duration `yaml:"max_duration" help:"any call longer than this is hung up"`
	DrainTimeout time.Duration `yaml:"drain_timeout" help:"on SIGTERM, how long calls in progress may run before the server exits anyway (0: until the last ends)"`
	CallbackURI  string        `yaml:"callback_uri" help:"where a call back to a caller goes: a SIP URI with {number}, e.g. sip:{number}@trunk.example.com (default: the caller's phone registered here, sip:{number}@REALM)"`
	CallerID     string        `yaml:"caller_id" help:"who our calls back are from (the From user part)"`
}

// RecordingsConfig configures call recording.
type RecordingsConfig struct {
	Enabled    bool             `yaml:"enabled" help:"record every call as a stereo WAV (caller left, the other side right)"`
	Dir        string           `yaml:"dir" help:"where recordings go (default: data_dir/recordings)"`
	Encryption EncryptionConfig `yaml:"encryption"`
	Retention  time.Duration    `yaml:"retention" help:"recordings of calls older than this are deleted (checked hourly), except calls on legal hold, e.g. 2160h for 90 days; 0 keeps them (a flow's or queue's own retention comes first)"`
	Queues     []string         `yaml:"queues" help:"recording policies of queues, each QUEUE=all|none|N%[:RETAIN]: none stops the recording as a call enters the queue, 20% keeps it for a fifth of them, RETAIN (720h, 90d) is how long those recordings are kept, e.g. sales=none, support=all:365d"`
}

// queuePolicies reads recordings.queues.
func (c RecordingsConfig) queuePolicies() (map[string]calls.RecordPolicy, error) {
	out := map[string]calls.RecordPolicy{}
	for i, q := range c.Queues {
		name, p, err := calls.ParseQueuePolicy(q)
		if err != nil {
			return nil, fmt.Errorf("recordings.queues[%d]: %w", i, err)
		}
		out[name] = p
	}
	return out, nil
}

// QAConfig configures quality review.
type QAConfig struct {
	Sampling     string `yaml:"sampling" help:"the review sampling policy, checked hourly, e.g. rate=5%,min_per_agent=2,min_duration=60s,long=10m,weights=angry:3;low_csat:3;long:2 (empty: those defaults; off: no sampling)"`
	SamplingSeed int    `yaml:"sampling_seed" help:"the seed the sample is drawn with: the same seed draws the same calls again"`
}

// samplePolicy reads qa.sampling; ok is false when sampling is off.
func (c QAConfig) samplePolicy() (p recordings.SamplePolicy, ok bool, err error) {
	if strings.TrimSpace(c.Sampling) == "off" {
		return p, false, nil
	}
	p, err = recordings.ParseSamplePolicy(c.Sampling)
	if err != nil {
		return p, false, fmt.Errorf("qa.sampling: %w", err)
	}
	return p, true, nil
}

// EncryptionConfig seals recordings at rest (recordings/seal.go).
type EncryptionConfig struct {
	Keys    []string `yaml:"keys" help:"master keys that seal new recordings at rest (AES-256-GCM, a fresh data key per recording), each ID=file:PATH (mode 0600) or ID=env:VARIABLE holding 64 hex digits ('sambung recordings keygen' makes one); keep old ids listed so their files still play. Empty: recordings are plain WAV"`
	Current string   `yaml:"current" help:"id of the key new recordings are sealed with (default: the first of recordings.encryption.keys)"`
}

// keySpecs reads the keys as Keyring entries.
func (c EncryptionConfig) keySpecs() ([]recordings.KeySpec, error) {
	specs := make([]recordings.KeySpec, 0, len(c.Keys))
	for i, k := range c.Keys {
		id, where, _ := strings.Cut(k, "=")
		kind, val, _ := strings.Cut(where, ":")
		switch {
		case id == "" || val == "":
		case kind == "file":
			specs = append(specs, recordings.KeySpec{ID: id, File: val})
			continue
		case kind == "env":
			specs = append(specs, recordings.KeySpec{ID: id, Env: val})
			continue
		}
		return nil, fmt.Errorf("recordings.encryption.keys[%d]: %q is not ID=file:PATH or ID=env:VARIABLE", i, k)
	}
	return specs, nil
}

// keyring loads the keys, reading environment variables from environ; nil
// when recordings are not encrypted.
func (c EncryptionConfig) keyring(environ []string) (*recordings.Keyring, error) {
	if len(c.Keys) == 0 {
		if c.Current != "" {
			return nil, errors.New("recordings.encryption.current: set, but recordings.encryption.keys is empty")
		}
		return nil, nil
	}
	specs, err := c.keySpecs()
	if err != nil {
		return nil, err
	}
	current := c.Current
	if current == "" {
		current = specs[0].ID
	}
	return recordings.LoadKeyring(specs, current, func(name string) string { return envLookup(environ, name) })
}

// IVRConfig configures the flows that answer calls.
type IVRConfig struct {
	Flows          string        `yaml:"flows" help:"directory of flow files: NUMBER.yaml answers NUMBER, default.yaml every other number (empty: the demo flow when demo is on)"`
	TTS            string        `yaml:"tts" oneof:"espeak,none" help:"speech for text prompts: espeak (espeak-ng, when installed) or none (pre-rendered prompts only)"`
	TTSCache       string        `yaml:"tts_cache" help:"where prompts rendered by the TTS are kept (default: data_dir/tts)"`
	Prompts        string        `yaml:"prompts" help:"directory of prompts rendered ahead of time with 'sambung flow prompts', tried before the TTS"`
	ReloadInterval time.Duration `yaml:"reload_interval" help:"how often to look for changed flow files; 0 reloads only on SIGHUP"`
}

// ASRConfig chooses the speech recognizers that listen steps hear callers
// with. Keys always work, whatever the recognizer does.
type ASRConfig struct {
	Engine      string        `yaml:"engine" help:"recognizer for every language without one in asr.languages, unless a flow chooses (speech: in the flow): auto (pocketsphinx when this build has it), pocketsphinx (English only), whisper-http, vosk, a name from asr.recognizers, or none"`
	Languages   []string      `yaml:"languages" help:"recognizers per language, as LANG=RECOGNIZER (id=whisper-http, yue=cantonese, tr=none)"`
	Recognizers []string      `yaml:"recognizers" help:"named recognizers, each NAME=ENGINE [url=URL] [model=MODEL] [api_key=env:VARIABLE] [timeout=DURATION], for asr.engine, asr.languages, asr.fallback and flows to choose by name; a setting not given is asr.url, asr.model, asr.api_key or asr.timeout, which the engines' own names use"`
	Fallback    string        `yaml:"fallback" help:"the recognizer that hears an utterance the chosen one fails on (a server down, too slow, or dropping its connection): auto (pocketsphinx when this build has it; it hears English only), a name, or none"`
	URL         string        `yaml:"url" help:"server engines: the server's address (whisper-http: http://host:port, vosk: ws://host:2700)"`
	APIKey      string        `yaml:"api_key" help:"server engines: a bearer token, if the server wants one"`
	Model       string        `yaml:"model" help:"the engine's model name (whisper-http: sent as model)"`
	Timeout     time.Duration `yaml:"timeout" help:"longest wait for one utterance's result; then the call goes on without it"`
	Silence     time.Duration `yaml:"silence" help:"a pause this long ends an utterance"`
	AgentCalls  bool          `yaml:"agent_calls" help:"transcribe both sides of every call with an agent, live, for the supervisors' floor and the call's timeline (two recognition streams per call)"`
	Phrases     []string      `yaml:"phrases" help:"what agents and callers commonly say, for engines that listen for phrases (pocketsphinx) in agent calls' transcripts, beside the flow's own phrases"`
}

// defaultConfig is the one place defaults are filled in.
func defaultConfig() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "sambung"
	}
	return Config{
		DataDir:  "data",
		Node:     host,
		Demo:     true,
		Log:      LogConfig{Level: "info", Format: "auto"},
		Database: DatabaseConfig{MaxConns: 10},
		Web: WebConfig{
			Listen:          "127.0.0.1:8080",
			SessionTTL:      12 * time.Hour,
			ShutdownTimeout: 30 * time.Second,
		},
		SIP: SIPConfig{
			UDP:            []string{"127.0.0.1:5060"},
			TCP:            []string{"127.0.0.1:5060"},
			MaxMessageSize: 65535,
			TCPReadTimeout: 2 * time.Minute,
			MaxConnsPerIP:  100,
			MaxCalls:       1000,
			Realm:          "sambung",
			Registrar:      true,
			DigestAlgs:     []string{"SHA-256", "MD5"},
		},
		Media:      MediaConfig{IP: "127.0.0.1", PortMin: 16384, PortMax: 32767, Timeout: 30 * time.Second, JitterMs: 60},
		Calls:      CallsConfig{MaxDuration: 4 * time.Hour, CallerID: "sambung"},
		Recordings: RecordingsConfig{Enabled: true},
		QA:         QAConfig{SamplingSeed: 1},
		IVR:        IVRConfig{TTS: "espeak", ReloadInterval: 2 * time.Second},
		ASR:        ASRConfig{Engine: "auto", Fallback: "auto", Timeout: 10 * time.Second, Silence: 400 * time.Millisecond},
		Agents: AgentsConfig{Queues: []string{"support:20s"}, Tiers: []string{"vip:10:20s:raise"},
			RingTimeout: 20 * time.Second, WrapUp: 30 * time.Second},
		WebRTC:  WebRTCConfig{Loopback: true},
		WebCall: WebCallConfig{MaxCalls: 20, PerMinute: 6},
		Alerts:  AlertsConfig{LongHold: 2 * time.Minute, AwayTooLong: 15 * time.Minute},
	}
}

// validate checks values that have a type but not every value of it makes
// sense. Errors name the key.
func (c *Config) validate() error {
	errs := c.validateAgents()
	if u := c.Calls.CallbackURI; u != "" && (!strings.HasPrefix(u, "sip:") || !strings.Contains(u, "{number}")) {
		errs = append(errs, fmt.Errorf("calls.callback_uri: expected a SIP URI with {number} in it, e.g. sip:{number}@trunk.example.com, got %q", u))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if c.Database.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("database.max_conns: expected at least 1, got %d", c.Database.MaxConns))
	}
	if (c.Web.TLSCert == "") != (c.Web.TLSKey == "") {
		errs = append(errs, errors.New("web.tls_cert and web.tls_key: set both or neither"))
	}
	if c.Web.SessionTTL < time.Minute {
		errs = append(errs, fmt.Errorf("web.session_ttl: expected at least 1m, got %s", c.Web.SessionTTL))
	}
	if (c.SIP.TLSCert == "") != (c.SIP.TLSKey == "") || (len(c.SIP.TLS) > 0 && c.SIP.TLSCert == "") {
		errs = append(errs, errors.New("sip.tls_cert and sip.tls_key: set both, and set them when sip.tls lists addresses"))
	}
	for _, a := range c.SIP.DigestAlgs {
		if a != "SHA-256" && a != "MD5" {
			errs = append(errs, fmt.Errorf("sip.digest_algorithms: expected SHA-256 or MD5, got %q", a))
		}
	}
	if c.SIP.Registrar && (c.SIP.Realm == "" || len(c.SIP.DigestAlgs) == 0) {
		errs = append(errs, errors.New("sip.registrar: needs sip.realm and at least one of sip.digest_algorithms"))
	}
	if len(c.SIP.UDP)+len(c.SIP.TCP)+len(c.SIP.TLS) == 0 {
		errs = append(errs, errors.New("sip: no listen address in sip.udp, sip.tcp or sip.tls"))
	}
	if c.Media.PortMin < 1024 || c.Media.PortMax > 65535 || c.Media.PortMax-c.Media.PortMin < 3 {
		errs = append(errs, fmt.Errorf("media.port_min/port_max: expected a range of at least 4 ports within 1024-65535, got %d-%d", c.Media.PortMin, c.Media.PortMax))
	}
	if _, err := netip.ParseAddr(c.Media.IP); err != nil {
		errs = append(errs, fmt.Errorf("media.ip: expected an IP address, got %q", c.Media.IP))
	}
	if c.Media.Timeout < time.Second {
		errs = append(errs, fmt.Errorf("media.timeout: expected at least 1s, got %s", c.Media.Timeout))
	}
	if specs, err := c.ASR.recognizerSpecs(); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, c.ASR.checkChoices(specs)...)
	}
	if c.ASR.Silence < 100*time.Millisecond || c.ASR.Timeout < time.Second {
		errs = append(errs, fmt.Errorf("asr.silence must be at least 100ms and asr.timeout at least 1s, got %s and %s", c.ASR.Silence, c.ASR.Timeout))
	}
	if _, err := c.Recordings.Encryption.keySpecs(); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := c.QA.samplePolicy(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Recordings.queuePolicies(); err != nil {
		errs = append(errs, err)
	}
	if c.Recordings.Retention < 0 {
		errs = append(errs, fmt.Errorf("recordings.retention: expected 0 (keep) or a duration such as 2160h, got %s", c.Recordings.Retention))
	}
	for _, o := range c.Web.AllowedOrigins {
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			errs = append(errs, fmt.Errorf("web.allowed_origins: %q is not an origin such as https://pbx.example.com", o))
		}
	}
	return errors.Join(errs...)
}

// A key is one leaf of Config: its dotted path, the field it sets, and its help.
type key struct {
	path  string // "web.listen"
	field []int  // reflect index path into Config
	typ   reflect.Type
	oneof []string // allowed values, from the oneof tag; nil allows any
	help  string
}

// envName is the environment variable that sets k.
func (k key) envName() string {
	return "SAMBUNG_" + strings.ToUpper(strings.ReplaceAll(k.path, ".", "_"))
}

// keys lists every leaf of Config in declaration order.
func keys() []key {
	var out []key
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			idx := append(append([]int(nil), index...), i)
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
				walk(f.Type, prefix+name+".", idx)
				continue
			}
			out = append(out, key{path: prefix + name, field: idx, typ: f.Type, oneof: oneof(f), help: f.Tag.Get("help")})
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
}

func oneof(f reflect.StructField) []string {
	if t := f.Tag.Get("oneof"); t != "" {
		return strings.Split(t, ",")
	}
	return nil
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

// typeWord says, for error messages, what a value of type t looks like.
func typeWord(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 90s, 30m or 12h"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.Slice:
		return "a list of strings"
	default:
		return "a string"
	}
}

// setText sets a leaf from its text form (environment, flag, YAML scalar).
// Lists take comma-separated text. A non-nil allowed restricts the value.
func setText(v reflect.Value, text string, allowed []string) error {
	if allowed != nil && !slices.Contains(allowed, text) {
		return fmt.Errorf("expected one of %s, got %q", strings.Join(allowed, ", "), text)
	}
	bad := fmt.Errorf("expected %s, got %q", typeWord(v.Type()), text)
	switch {
	case v.Type() == reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil {
			return bad
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return bad
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return bad
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Slice:
		var items []string
		for s := range strings.SplitSeq(text, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		v.SetString(text)
	}
	return nil
}

// loadFile applies a YAML config file onto cfg. Every error names the file,
// the line and the key.
func loadFile(cfg *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return applyYAML(cfg, path, data)
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func applyYAML(cfg *Config, path string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("%s:%s: not valid YAML: %s", path, m[1], m[2])
		}
		return fmt.Errorf("%s: not valid YAML: %s", path, strings.TrimPrefix(msg, "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	return applyNode(reflect.ValueOf(cfg).Elem(), doc.Content[0], path, "")
}

// applyNode sets struct v from mapping node n; prefix is the dotted path of v.
func applyNode(v reflect.Value, n *yaml.Node, file, prefix string) error {
	where := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d:%d", file, n.Line, n.Column) }
	if n.Kind != yaml.MappingNode {
		what := strings.TrimSuffix(prefix, ".")
		if what == "" {
			return fmt.Errorf("%s: expected a mapping of keys (key: value), got %s", where(n), kindWord(n))
		}
		return fmt.Errorf("%s: %s: expected a mapping of keys, got %s", where(n), what, kindWord(n))
	}
	fields := map[string]int{}
	var names []string
	for i := range v.NumField() {
		name := yamlName(v.Type().Field(i))
		fields[name] = i
		names = append(names, name)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		path := prefix + kn.Value
		idx, ok := fields[kn.Value]
		if !ok {
			msg := fmt.Sprintf("%s: unknown key %q", where(kn), path)
			if near := nearest(kn.Value, names); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", prefix+near)
			}
			return fmt.Errorf("%s (known keys here: %s)", msg, strings.Join(names, ", "))
		}
		if seen[kn.Value] {
			return fmt.Errorf("%s: key %q is set twice", where(kn), path)
		}
		seen[kn.Value] = true
		fv := v.Field(idx)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Duration]() {
			if err := applyNode(fv, vn, file, path+"."); err != nil {
				return err
			}
			continue
		}
		if err := applyLeaf(fv, vn, oneof(v.Type().Field(idx))); err != nil {
			return fmt.Errorf("%s: %s: %w", where(vn), path, err)
		}
	}
	return nil
}

func applyLeaf(v reflect.Value, n *yaml.Node, allowed []string) error {
	if n.Tag == "!!null" {
		return nil // "key:" with nothing after it keeps the default
	}
	if v.Kind() == reflect.Slice && v.Type() != reflect.TypeFor[time.Duration]() {
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("expected a list of strings, got %s", kindWord(n))
		}
		items := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("expected a list of strings, got %s at line %d", kindWord(c), c.Line)
			}
			items = append(items, c.Value)
		}
		v.Set(reflect.ValueOf(items))
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected %s, got %s", typeWord(v.Type()), kindWord(n))
	}
	return setText(v, n.Value, allowed)
}

func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// nearest returns the candidate closest to s by edit distance, if close.
func nearest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int { return levenshtein([]byte(a), []byte(b)) }

// levenshtein is the edit distance between two sequences: substitutions,
// insertions and deletions (keys here, words in sambung eval asr).
func levenshtein[T comparable](a, b []T) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// applyEnv applies SAMBUNG_* variables from environ. It returns the names of
// SAMBUNG_ variables that set no key, so the caller can warn about typos.
func applyEnv(cfg *Config, environ []string) (unknown []string, err error) {
	byEnv := map[string]key{}
	for _, k := range keys() {
		byEnv[k.envName()] = k
	}
	root := reflect.ValueOf(cfg).Elem()
	var errs []error
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SAMBUNG_") {
			continue
		}
		k, ok := byEnv[name]
		if !ok {
			if !notConfigEnv[name] && !strings.HasPrefix(name, "SAMBUNG_TEST_") {
				unknown = append(unknown, name)
			}
			continue
		}
		if err := setText(root.FieldByIndex(k.field), val, k.oneof); err != nil {
			errs = append(errs, fmt.Errorf("environment %s (%s): %w", name, k.path, err))
		}
	}
	sort.Strings(unknown)
	return unknown, errors.Join(errs...)
}

// notConfigEnv are SAMBUNG_ variables that are read elsewhere.
var notConfigEnv = map[string]bool{
	"SAMBUNG_CONFIG":        true,
	"SAMBUNG_REQUIRE_PEERS": true,
}

// redacted returns a copy of cfg safe to print: passwords in URLs, API
// keys and the TURN password hidden.
func (c Config) redacted() Config {
	c.Database.URL = redactURL(c.Database.URL)
	c.ASR.URL = redactURL(c.ASR.URL)
	recs := make([]string, len(c.ASR.Recognizers))
	for i, r := range c.ASR.Recognizers {
		fields := strings.Fields(r)
		for j, f := range fields {
			if u, ok := strings.CutPrefix(f, "url="); ok {
				fields[j] = "url=" + redactURL(u)
			}
		}
		recs[i] = strings.Join(fields, " ")
	}
	c.ASR.Recognizers = recs
	if c.ASR.APIKey != "" {
		c.ASR.APIKey = "xxxxx"
	}
	if c.WebRTC.ICECredential != "" {
		c.WebRTC.ICECredential = "xxxxx"
	}
	return c
}

var urlPassword = regexp.MustCompile(`^([a-z][a-z0-9+.-]*://[^:/@]*):[^@/]*@`)

func redactURL(u string) string {
	return urlPassword.ReplaceAllString(u, "$1:xxxxx@")
}

// marshalConfig writes cfg as YAML that loadFile reads back. Durations are
// written in their text form (12h0m0s), not as nanoseconds.
func marshalConfig(cfg Config) ([]byte, error) {
	return yaml.Marshal(toYAMLTree(reflect.ValueOf(cfg)))
}

func toYAMLTree(v reflect.Value) any {
	if v.Type() == reflect.TypeFor[time.Duration]() {
		return time.Duration(v.Int()).String()
	}
	if v.Kind() != reflect.Struct {
		return v.Interface()
	}
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := range v.NumField() {
		var val yaml.Node
		if err := val.Encode(toYAMLTree(v.Field(i))); err != nil {
			continue
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: yamlName(v.Type().Field(i))}, &val)
	}
	return n
}
