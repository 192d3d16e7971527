package webrtc

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	pion "github.com/pion/webrtc/v4"
)

// ICEServer is a STUN or TURN server the leg gathers candidates through
// (RTCIceServer in the W3C API).
type ICEServer struct {
	// URLs are the server's addresses, such as "stun:stun.example.org:3478"
	// or "turn:turn.example.org:3478?transport=udp".
	URLs []string
	// Username and Credential authenticate to a TURN server; empty for STUN.
	Username, Credential string
}

// Config configures a leg. The zero value is usable: host candidates on
// every interface, ephemeral ports, a 15 s timeout. Defaults are filled in
// by fillDefaults, and nowhere else.
type Config struct {
	// ICEServers are STUN and TURN servers for server-reflexive and relay
	// candidates. A server with a public address needs none: the browser
	// reaches its host candidate.
	ICEServers []ICEServer
	// PortMin and PortMax bound the UDP ports of the leg's candidates; both
	// zero means any ephemeral port.
	PortMin, PortMax uint16
	// NAT1To1IPs are public addresses that map one to one onto this host's
	// (a cloud instance behind an elastic IP): host candidates carry them
	// instead of the private address.
	NAT1To1IPs []string
	// LoopbackOnly gathers candidates on 127.0.0.1 and ::1 only: for tests
	// and a browser on the same machine.
	LoopbackOnly bool
	// IncludeLoopback also offers loopback candidates (127.0.0.1, ::1)
	// beside the others, for a browser on the same machine: pion leaves
	// them out by default, and a host whose only interface is loopback
	// (a test's network namespace) would offer nothing.
	IncludeLoopback bool
	// Timeout is how long the leg survives losing the browser: with no ICE
	// traffic for this long ICE fails, and with no RTP for this long the
	// leg ends with a media timeout (default 15 s). A network blip shorter
	// than this can be mended by an ICE restart (Leg.Restart).
	Timeout time.Duration
	// JitterDelay is how far playout of the browser's audio trails its
	// arrival (default 60 ms), in whole 20 ms frames from 20 to 500 ms.
	JitterDelay time.Duration
	// Codecs are the audio codecs the leg speaks, "opus" and "PCMU", in
	// order of preference; the default is Codecs(): Opus first when the
	// build has it. A leg answers with the first one the browser offers.
	Codecs []string

	prefs []*format // Codecs, resolved by fillDefaults
}

// fillDefaults fills in the defaults, in this one place, and checks what
// cannot be defaulted.
func (c *Config) fillDefaults() error {
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	if c.JitterDelay <= 0 {
		c.JitterDelay = 60 * time.Millisecond
	}
	if c.PortMax < c.PortMin || (c.PortMin == 0) != (c.PortMax == 0) {
		return fmt.Errorf("webrtc: UDP port range %d-%d: set both, with PortMin <= PortMax, or neither", c.PortMin, c.PortMax)
	}
	if len(c.Codecs) == 0 {
		c.Codecs = Codecs()
	}
	c.prefs = nil
	for _, name := range c.Codecs {
		f, err := formatNamed(name)
		if err != nil {
			return err
		}
		if !slices.Contains(c.prefs, f) {
			c.prefs = append(c.prefs, f)
		}
	}
	for _, ip := range c.NAT1To1IPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("webrtc: NAT 1:1 address %q is not an IP address", ip)
		}
	}
	return nil
}

// iceTimeouts splits Timeout between pion's two ICE timers: ICE goes
// "disconnected" after a third of it without traffic, and "failed" after
// the rest, so failure comes Timeout after the last packet. Keepalives go
// often enough that a quiet but live path never looks disconnected.
func (c *Config) iceTimeouts() (disconnected, failed, keepalive time.Duration) {
	disconnected = c.Timeout / 3
	return disconnected, c.Timeout - disconnected, min(2*time.Second, disconnected/2)
}

// newAPI builds the pion API for one leg: a media engine that knows only
// the configured codecs and their telephone-events (so the answer offers
// nothing else), no interceptors (no NACK, TWCC or RTCP reports: audio at
// 50 packets/s gains nothing from retransmission, and each interceptor
// costs per packet), and the network settings of cfg.
func newAPI(cfg Config, log *slog.Logger) (*pion.API, error) {
	me := &pion.MediaEngine{}
	for _, f := range cfg.prefs {
		for _, c := range []pion.RTPCodecParameters{
			{RTPCodecCapability: f.capability, PayloadType: f.pt},
			{RTPCodecCapability: f.event(), PayloadType: f.eventPT},
		} {
			if err := me.RegisterCodec(c, pion.RTPCodecTypeAudio); err != nil {
				return nil, fmt.Errorf("webrtc: register %s: %w", c.MimeType, err)
			}
		}
	}

	var se pion.SettingEngine
	se.LoggerFactory = loggerFactory{log}
	se.SetICETimeouts(cfg.iceTimeouts())
	// Remote .local (mDNS) candidates are dropped and ours are plain IPs:
	// a server is rarely on the browser's LAN, and the browser reaches it
	// as a peer-reflexive candidate anyway. This also keeps the leg from
	// opening a multicast socket.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if cfg.PortMin != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("webrtc: UDP port range %d-%d: %w", cfg.PortMin, cfg.PortMax, err)
		}
	}
	if len(cfg.NAT1To1IPs) > 0 {
		err := se.SetICEAddressRewriteRules(pion.ICEAddressRewriteRule{
			External:        cfg.NAT1To1IPs,
			AsCandidateType: pion.ICECandidateTypeHost,
			Mode:            pion.ICEAddressRewriteReplace,
		})
		if err != nil {
			return nil, fmt.Errorf("webrtc: NAT 1:1 addresses %v: %w", cfg.NAT1To1IPs, err)
		}
	}
	if cfg.LoopbackOnly || cfg.IncludeLoopback {
		se.SetIncludeLoopbackCandidate(true)
	}
	if cfg.LoopbackOnly {
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	// An empty registry, given: without one pion registers its default
	// interceptors (NACK, RTCP reports, stats, TWCC) and offers their
	// feedback in SDP.
	return pion.NewAPI(pion.WithMediaEngine(me), pion.WithSettingEngine(se),
		pion.WithInterceptorRegistry(&interceptor.Registry{})), nil
}

// configuration is the PeerConnection's configuration for cfg.
func (c *Config) configuration() pion.Configuration {
	var pc pion.Configuration
	for _, s := range c.ICEServers {
		pc.ICEServers = append(pc.ICEServers, pion.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return pc
}
