package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/audit"
	"github.com/sambung/sambung/calls"
	"github.com/sambung/sambung/media/webrtc"
	"github.com/sambung/sambung/store"
	"github.com/sambung/sambung/web"
)

// AgentsConfig configures agents, queues and routing.
type AgentsConfig struct {
	Queues      []string      `yaml:"queues" help:"queues calls can enter, each NAME or NAME:SERVICE_LEVEL, e.g. support:20s (calls answered within it count as in time)"`
	Tiers       []string      `yaml:"tiers" help:"customer tiers served first, each NAME:PRIORITY[:DEADLINE[:ON_BREACH]], e.g. vip:10:20s:raise (ON_BREACH: raise, widen or callback)"`
	RingTimeout time.Duration `yaml:"ring_timeout" help:"how long a call rings an agent before it goes to the next one (the first is set away)"`
	WrapUp      time.Duration `yaml:"wrap_up" help:"time after a call before an agent is offered the next (saving the wrap-up ends it sooner)"`
	MaxWait     time.Duration `yaml:"max_wait" help:"longest wait in queue before the caller is offered agents.at_max_wait (0: no limit)"`
	AtMaxWait   string        `yaml:"at_max_wait" oneof:",voicemail,callback" help:"what a caller waiting agents.max_wait is offered: voicemail or callback (keeping their place)"`
	Widen       []string      `yaml:"widen" help:"skills a queue stops requiring after a wait, each QUEUE:WAIT:SKILL, e.g. support:30s:intent: (a SKILL ending in a colon drops every skill it starts)"`
	Overflow    []string      `yaml:"overflow" help:"calls that move to another queue after a wait, each QUEUE:WAIT:OTHER_QUEUE, e.g. support:2m:general"`
}

// WebRTCConfig configures the browsers' audio (the agents' softphones).
type WebRTCConfig struct {
	ICEServers    []string `yaml:"ice_servers" help:"STUN and TURN URLs for browsers, e.g. stun:stun.example.com:3478, turn:turn.example.com:3478?transport=udp"`
	ICEUsername   string   `yaml:"ice_username" help:"the TURN servers' user name"`
	ICECredential string   `yaml:"ice_credential" help:"the TURN servers' password"`
	PortMin       int      `yaml:"port_min" help:"lowest UDP port for browser audio (0 with port_max 0: any free port)"`
	PortMax       int      `yaml:"port_max" help:"highest UDP port for browser audio"`
	PublicIPs     []string `yaml:"public_ips" help:"addresses announced to browsers when this host is behind a 1:1 NAT"`
	Loopback      bool     `yaml:"loopback" help:"also offer 127.0.0.1 to browsers, for a browser on this same machine (the demo)"`
	Codecs        []string `yaml:"codecs" help:"browser audio codecs in order of preference: opus, PCMU (empty: PCMU first on calls from phones, no transcoding, and opus first on calls from web pages, when built with libopus)"`
}

// AlertsConfig configures the supervisors' alerts (docs/supervisor.md).
type AlertsConfig struct {
	Webhook     string        `yaml:"webhook" help:"URL each alert is POSTed to as JSON (none: the supervisors' pages only)"`
	LongHold    time.Duration `yaml:"long_hold" help:"alert when an agent has held a caller this long (0: never)"`
	AwayTooLong time.Duration `yaml:"away_too_long" help:"alert when an agent has been away this long (0: never)"`
}

// alertConfig is the desk's alerts, delivered to the supervisors' pages
// through publish.
func (c *Config) alertConfig(publish func(calls.Alert)) calls.AlertConfig {
	never := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	return calls.AlertConfig{Webhook: c.Alerts.Webhook, LongHold: never(c.Alerts.LongHold),
		AwayTooLong: never(c.Alerts.AwayTooLong), Publish: publish}
}

// WebCallConfig configures calls from web pages: the click-to-call page
// and the widget other sites embed (docs/webcall.md).
type WebCallConfig struct {
	Lines     []string `yaml:"lines" help:"numbers web pages may call, each NUMBER or NUMBER=Name, the first the page's default (none: no calls from the web, except the demo's line when demo is on)"`
	MaxCalls  int      `yaml:"max_calls" help:"web calls at once on this node"`
	PerMinute int      `yaml:"per_minute" help:"calls one client address may place in a minute"`
}

// webCallConfig is the switchboard's web calls, or nil when they are off.
func (c *Config) webCallConfig() *calls.WebCallConfig {
	lines := c.WebCall.Lines
	if len(lines) == 0 && c.Demo {
		lines = []string{"demo=Sambung demo"}
	}
	if len(lines) == 0 {
		return nil
	}
	wc := &calls.WebCallConfig{MaxCalls: c.WebCall.MaxCalls, PerMinute: c.WebCall.PerMinute, WebRTC: c.webrtcConfig()}
	for _, l := range lines {
		number, name, _ := strings.Cut(l, "=")
		wc.Lines = append(wc.Lines, calls.WebLine{Number: strings.TrimSpace(number), Name: strings.TrimSpace(name)})
	}
	return wc
}

// webCalls adapts the switchboard's web calls to the web server's socket.
type webCalls struct{ w *calls.WebCalls }

func (w webCalls) Open(client string) web.SoftphoneSession { return w.w.Open(client) }

// validate checks the agents and WebRTC keys.
func (c *Config) validateAgents() []error {
	var errs []error
	if _, err := c.agentsConfig(); err != nil {
		errs = append(errs, err)
	}
	w := c.WebRTC
	if (w.PortMin == 0) != (w.PortMax == 0) || w.PortMin < 0 || w.PortMax > 65535 || w.PortMin > w.PortMax {
		errs = append(errs, fmt.Errorf("webrtc.port_min/port_max: expected both 0 or a range within 1-65535, got %d-%d", w.PortMin, w.PortMax))
	}
	if h := c.Alerts.Webhook; h != "" {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("alerts.webhook: %q is not an http or https URL", h))
		}
	}
	if c.Alerts.LongHold < 0 || c.Alerts.AwayTooLong < 0 {
		errs = append(errs, fmt.Errorf("alerts.long_hold and alerts.away_too_long: expected 0 (never) or more, got %s and %s",
			c.Alerts.LongHold, c.Alerts.AwayTooLong))
	}
	if err := webrtc.CheckCodecs(w.Codecs); err != nil {
		errs = append(errs, fmt.Errorf("webrtc.codecs: %w", err))
	}
	for _, l := range c.WebCall.Lines {
		if number, _, _ := strings.Cut(l, "="); strings.TrimSpace(number) == "" {
			errs = append(errs, fmt.Errorf("webcall.lines: %q: expected NUMBER or NUMBER=Name", l))
		}
	}
	if c.WebCall.MaxCalls < 1 || c.WebCall.PerMinute < 1 {
		errs = append(errs, fmt.Errorf("webcall.max_calls and webcall.per_minute: expected at least 1, got %d and %d",
			c.WebCall.MaxCalls, c.WebCall.PerMinute))
	}
	if c.Agents.RingTimeout < time.Second {
		errs = append(errs, fmt.Errorf("agents.ring_timeout: expected at least 1s, got %s", c.Agents.RingTimeout))
	}
	return errs
}

// agentsConfig turns the agents keys into the ACD's configuration.
func (c *Config) agentsConfig() (agents.Config, error) {
	a := c.Agents
	cfg := agents.Config{Node: c.Node, RingTimeout: a.RingTimeout, WrapUp: a.WrapUp}
	for _, q := range a.Queues {
		name, sl, _ := strings.Cut(q, ":")
		qc := agents.QueueConfig{Name: name, MaxWait: a.MaxWait, AtMaxWait: a.AtMaxWait}
		if sl != "" {
			d, err := time.ParseDuration(sl)
			if err != nil || d <= 0 {
				return cfg, fmt.Errorf("agents.queues: %q: the service level after the colon must be a duration such as 20s", q)
			}
			qc.ServiceLevel = d
		}
		cfg.Queues = append(cfg.Queues, qc)
	}
	queue := func(key, item, name string) (*agents.QueueConfig, error) {
		for i := range cfg.Queues {
			if cfg.Queues[i].Name == name {
				return &cfg.Queues[i], nil
			}
		}
		return nil, fmt.Errorf("agents.%s: %q: there is no queue %q in agents.queues", key, item, name)
	}
	for _, w := range a.Widen {
		parts := strings.SplitN(w, ":", 3)
		if len(parts) != 3 || parts[2] == "" {
			return cfg, fmt.Errorf("agents.widen: %q: expected QUEUE:WAIT:SKILL, e.g. support:30s:intent: to stop requiring the intent after 30 s", w)
		}
		after, err := time.ParseDuration(parts[1])
		if err != nil || after <= 0 {
			return cfg, fmt.Errorf("agents.widen: %q: the wait %q is not a duration such as 30s", w, parts[1])
		}
		q, err := queue("widen", w, parts[0])
		if err != nil {
			return cfg, err
		}
		i := slices.IndexFunc(q.Widen, func(x agents.Widen) bool { return x.After == after })
		if i < 0 {
			q.Widen = append(q.Widen, agents.Widen{After: after})
			i = len(q.Widen) - 1
		}
		q.Widen[i].Drop = append(q.Widen[i].Drop, parts[2])
	}
	for i := range cfg.Queues {
		slices.SortStableFunc(cfg.Queues[i].Widen, func(x, y agents.Widen) int { return cmp.Compare(x.After, y.After) })
	}
	for _, o := range a.Overflow {
		parts := strings.Split(o, ":")
		if len(parts) != 3 || parts[2] == "" {
			return cfg, fmt.Errorf("agents.overflow: %q: expected QUEUE:WAIT:OTHER_QUEUE, e.g. support:2m:general", o)
		}
		after, err := time.ParseDuration(parts[1])
		if err != nil || after <= 0 {
			return cfg, fmt.Errorf("agents.overflow: %q: the wait %q is not a duration such as 2m", o, parts[1])
		}
		q, err := queue("overflow", o, parts[0])
		if err != nil {
			return cfg, err
		}
		if _, err := queue("overflow", o, parts[2]); err != nil {
			return cfg, err
		}
		if q.Overflow != nil {
			return cfg, fmt.Errorf("agents.overflow: %q: queue %s overflows already", o, parts[0])
		}
		q.Overflow = &agents.Overflow{After: after, To: parts[2]}
	}
	for _, t := range a.Tiers {
		parts := strings.Split(t, ":")
		if len(parts) < 2 || len(parts) > 4 || parts[0] == "" {
			return cfg, fmt.Errorf("agents.tiers: %q: expected NAME:PRIORITY[:DEADLINE[:ON_BREACH]], e.g. vip:10:20s:raise", t)
		}
		tier := agents.Tier{Name: parts[0]}
		p, err := strconv.Atoi(parts[1])
		if err != nil {
			return cfg, fmt.Errorf("agents.tiers: %q: the priority %q is not a whole number", t, parts[1])
		}
		tier.Priority = p
		if len(parts) > 2 && parts[2] != "" {
			if tier.Deadline, err = time.ParseDuration(parts[2]); err != nil || tier.Deadline <= 0 {
				return cfg, fmt.Errorf("agents.tiers: %q: the deadline %q is not a duration such as 20s", t, parts[2])
			}
		}
		if len(parts) > 3 {
			tier.OnBreach = parts[3]
		}
		cfg.Tiers = append(cfg.Tiers, tier)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("agents: %w", err)
	}
	return cfg, nil
}

// webrtcConfig is the agents' legs' configuration.
func (c *Config) webrtcConfig() webrtc.Config {
	w := c.WebRTC
	cfg := webrtc.Config{PortMin: uint16(w.PortMin), PortMax: uint16(w.PortMax), NAT1To1IPs: w.PublicIPs,
		IncludeLoopback: w.Loopback, Codecs: w.Codecs}
	if len(w.ICEServers) > 0 {
		cfg.ICEServers = []webrtc.ICEServer{{URLs: w.ICEServers, Username: w.ICEUsername, Credential: w.ICECredential}}
	}
	return cfg
}

// newACD builds the ACD and the desk's configuration.
func newACD(cfg Config, st store.Store, al *audit.Log, log *slog.Logger) (*agents.ACD, *calls.DeskConfig, error) {
	ac, err := cfg.agentsConfig()
	if err != nil {
		return nil, nil, err
	}
	acd, err := agents.New(ac, st, al, log)
	if err != nil {
		return nil, nil, err
	}
	return acd, &calls.DeskConfig{ACD: acd, WebRTC: cfg.webrtcConfig(), RingTimeout: cfg.Agents.RingTimeout,
		Transcripts: calls.TranscriptConfig{AgentCalls: cfg.ASR.AgentCalls, Phrases: cfg.ASR.Phrases}}, nil
}

// softphone adapts the switchboard's desk to the web server's socket.
type softphone struct{ d *calls.Desk }

func (s softphone) Open(ctx context.Context, u store.User) (web.SoftphoneSession, error) {
	return s.d.Open(ctx, u)
}

// demoSkills are the demo agent's: every language and intent of the demo
// flow, so every call the demo queues can ring them.
var demoSkills = []string{"language:en", "language:id", "language:zh", "language:yue",
	"intent:order_status", "intent:refund", "intent:billing", "intent:complaint"}

// seedDemoAgent gives the demo agent its skills, once: an agent record
// that exists already is left as its administrator set it.
func seedDemoAgent(ctx context.Context, st store.Store, acd *agents.ACD) error {
	u, err := st.UserByName(ctx, string(store.RoleAgent))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo agent: %w", err)
	}
	if _, err := acd.Agent(ctx, u.ID); err == nil {
		return nil
	}
	if _, err := acd.UpsertAgent(ctx, agents.Agent{ID: u.ID, Name: u.Name, DisplayName: u.DisplayName, Skills: demoSkills}); err != nil {
		return fmt.Errorf("demo agent: %w", err)
	}
	return nil
}

// publishFloor passes the ACD's events (an agent's state, a call offered,
// answered or abandoned) to the supervisors' pages as "agent.event": the
// wallboard reloads on each, as it does on "call.event".
func publishFloor(ctx context.Context, acd *agents.ACD, hub *web.Hub) {
	acd.Follow(ctx, 256, func(e agents.Event) {
		data := map[string]any{"kind": e.Kind, "call_id": e.CallID, "queue": e.Queue}
		if e.Agent != nil {
			data["agent_id"], data["agent"], data["state"] = e.Agent.ID, e.Agent.Name, e.Agent.State
		}
		hub.Publish(web.Event{Type: "agent.event", At: e.At, Data: data}, store.RoleSupervisor, store.RoleAdmin)
	})
}
