package calls

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// PCI pause. While a caller gives card details, the agent (a button on
// their page, or the API) pauses what the call keeps, and nothing of what
// is said or keyed meanwhile is kept anywhere:
//   - the recording goes on with silence on both channels, so it keeps the
//     call's timeline and playback stays in step with the timeline;
//   - recognition (the IVR's and the live transcript, both sides) hears
//     silence;
//   - a key the caller presses reaches nothing (not the IVR, not the
//     agent), and its timeline entry says only that a key was pressed:
//     {"masked": true}; no log line names a key, paused or not.
//
// The agent and any supervisor on the call still hear the caller: the
// agent is the one taking the details. The pause ends when the agent
// resumes, or by itself when the agent's part of the call ends (a
// transfer, a hang-up), so the next part is recorded again.

// ErrPCIUnchanged reports a pause of a paused call or a resume of one that
// is not paused.
var ErrPCIUnchanged = errors.New("the recording is already in that state")

// pciState is the PCI pause of a call; part of Call.
type pciState struct {
	pciMu    sync.Mutex
	pciOn    bool
	pciSince time.Time
	// pciPaused mirrors pciOn for the media goroutines, read every tick.
	pciPaused atomic.Bool
}

// setPCI pauses (on) or resumes what the call keeps; by names who did.
func (c *Call) setPCI(on bool, by string) error {
	c.pciMu.Lock()
	defer c.pciMu.Unlock()
	if c.pciOn == on {
		return ErrPCIUnchanged
	}
	c.pciOn = on
	c.pciPaused.Store(on)
	if on {
		c.pciSince = time.Now()
		c.event("pci.paused", map[string]any{"by": by})
		return nil
	}
	c.event("pci.resumed", map[string]any{"by": by, "paused_ms": time.Since(c.pciSince).Milliseconds()})
	return nil
}

// paused reports whether the call is in a PCI pause.
func (c *Call) paused() bool { return c.pciPaused.Load() }

// endPCI resumes a pause left on when the agent's part of the call ends.
func (c *Call) endPCI(why string) {
	if c.paused() {
		_ = c.setPCI(false, why)
	}
}

// PausePCI is the Call as an ivr.Pauser: a flow's pci step.
func (c *Call) PausePCI(on bool) {
	if err := c.setPCI(on, "flow"); err != nil && !errors.Is(err, ErrPCIUnchanged) {
		c.log.Warn("calls: the flow's PCI pause", "err", err)
	}
}
