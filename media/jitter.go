package media

// The jitter buffer turns packets that arrive unevenly, out of order, twice
// or not at all into one frame per 20 ms tick, a fixed delay behind the
// peer. It is a ring of decoded frames indexed by extended sequence number
// (RFC 3550 §A.1 style unwrapping), so wrap-around at 65535 is invisible,
// and nothing allocates. It assumes one frame per packet (ptime 20, which
// is what we offer); a longer payload is cut to a frame, a shorter one
// padded with silence.
//
// Playout: the first packet starts a wait of the configured delay; then a
// frame leaves at each tick. A gap with later packets behind it is a loss:
// the last frame is repeated, fading out over concealFrames, then silence
// (packet-loss concealment). When nothing newer has arrived (the peer is
// late or has paused) the buffer holds its place and conceals; if the pause
// lasts, it goes idle and the next packet waits out the delay again. When
// packets pile up beyond the delay (a burst after a stall, or a peer whose
// clock runs fast), the oldest are dropped to bring the delay back.
// Not locked: the session guards it.

const (
	jitterSlots     = 64 // the ring: 1.28 s of frames; a power of two
	maxJitterFrames = 25 // the longest playout delay: 500 ms
	concealFrames   = 3  // PLC fades the last frame out over 60 ms
)

type jitterState uint8

const (
	jitterIdle      jitterState = iota // nothing to play; the next packet starts a wait
	jitterBuffering                    // waiting out the delay
	jitterPlaying
)

type slotState uint8

const (
	slotEmpty  slotState = iota
	slotAudio            // a frame to play
	slotSkip             // a packet without audio (RFC 4733 events): takes a sequence number, not a tick
	slotPlayed           // played, skipped or dropped; kept to recognise duplicates
	// slotRecovered is a frame rebuilt from the next packet's forward
	// error correction (Opus): played as audio, but the packet itself,
	// arriving late, takes its place.
	slotRecovered
)

type jitterSlot struct {
	seq   int64
	state slotState
	frame Frame
}

type insertResult uint8

const (
	inserted insertResult = iota
	insertDuplicate
	insertLate
)

type popResult uint8

const (
	popAudio     popResult = iota // a frame the peer sent
	popConcealed                  // made up from the last frame (PLC)
	popSilent                     // nothing to play
)

type jitterBuffer struct {
	slots [jitterSlots]jitterSlot
	delay int // playout delay in frames
	trim  int // depth beyond the delay that makes the buffer drop its oldest frames

	state     jitterState
	wait      int   // ticks left to wait while buffering
	seen      bool  // highest is valid
	highest   int64 // highest extended sequence number received
	next      int64 // extended sequence number of the next frame to play
	underrun  int   // ticks in a row with nothing newer to play
	concealed int   // ticks since the last real frame
	haveLast  bool
	last      Frame
}

func (j *jitterBuffer) setDelay(frames int) {
	j.delay = min(max(frames, 1), maxJitterFrames)
	j.trim = max(3, j.delay)
}

// reset forgets the stream (a new SSRC): what is buffered is dropped and
// the next packet starts over.
func (j *jitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i].state = slotEmpty
	}
	j.state, j.seen, j.underrun = jitterIdle, false, 0
}

// extend unwraps a 16-bit sequence number to the one nearest the highest
// seen.
func (j *jitterBuffer) extend(seq uint16) int64 {
	if !j.seen {
		return int64(seq)
	}
	return j.highest + int64(int16(seq-uint16(j.highest)))
}

func (j *jitterBuffer) slot(ext int64) *jitterSlot { return &j.slots[ext&(jitterSlots-1)] }

// insert places the packet with sequence number seq. For audio it returns
// the frame to decode the payload into; a packet without audio only
// occupies its sequence number.
func (j *jitterBuffer) insert(seq uint16, audio bool) (*Frame, insertResult) {
	ext := j.extend(seq)
	switch {
	case ext < j.next && j.seen:
		if j.state == jitterBuffering && j.highest-ext < jitterSlots-1 {
			// Reordered ahead of the first packet while the delay runs:
			// start earlier.
			j.next = ext
			break
		}
		if sl := j.slot(ext); sl.seq == ext && sl.state == slotPlayed {
			return nil, insertDuplicate
		}
		return nil, insertLate
	case j.state == jitterIdle:
		j.restart(ext)
	case ext-j.next >= jitterSlots:
		// Too far ahead to hold: the stream jumped. Start over from here.
		j.reset()
		j.restart(ext)
	}
	if !j.seen || ext > j.highest {
		j.highest, j.seen = ext, true
	}
	sl := j.slot(ext)
	if sl.seq == ext && sl.state != slotEmpty && (sl.state != slotRecovered || !audio) {
		return nil, insertDuplicate
	}
	sl.seq = ext
	if !audio {
		sl.state = slotSkip
		return nil, inserted
	}
	sl.state = slotAudio
	return &sl.frame, inserted
}

// missingBefore returns the slot of the packet before seq (just
// inserted) when that packet has not arrived and its frame is still to
// be played, for forward error correction to fill (then marked
// slotRecovered); nil otherwise.
func (j *jitterBuffer) missingBefore(seq uint16) *jitterSlot {
	ext := j.extend(seq) - 1
	if j.state == jitterIdle || ext < j.next {
		return nil
	}
	sl := j.slot(ext)
	if sl.seq == ext && sl.state != slotEmpty {
		return nil
	}
	sl.seq, sl.state = ext, slotEmpty
	return sl
}

func (j *jitterBuffer) restart(ext int64) {
	j.state, j.wait, j.next, j.underrun = jitterBuffering, j.delay, ext, 0
}

// pop writes the frame for this tick into out. dropped counts audio frames
// thrown away to bring the delay back down.
func (j *jitterBuffer) pop(out *Frame) (res popResult, dropped int) {
	switch j.state {
	case jitterIdle:
		return j.conceal(out), 0
	case jitterBuffering:
		if j.wait > 0 {
			j.wait--
			return j.conceal(out), 0
		}
		j.state = jitterPlaying
	}
	if depth := j.highest - j.next + 1; depth > int64(j.delay+j.trim) {
		for ; depth > int64(j.delay); depth-- {
			if sl := j.slot(j.next); sl.seq == j.next && (sl.state == slotAudio || sl.state == slotRecovered) {
				sl.state = slotPlayed
				dropped++
			}
			j.next++
		}
	}
	for {
		sl := j.slot(j.next)
		if sl.seq != j.next || sl.state != slotSkip {
			break
		}
		sl.state = slotPlayed
		j.next++
	}
	sl := j.slot(j.next)
	if sl.seq == j.next && (sl.state == slotAudio || sl.state == slotRecovered) {
		sl.state = slotPlayed
		*out = sl.frame
		j.last, j.haveLast = sl.frame, true
		j.concealed, j.underrun = 0, 0
		j.next++
		return popAudio, dropped
	}
	if j.highest >= j.next {
		// Lost: later packets are here, this one is not.
		j.next++
		j.underrun = 0
		return j.conceal(out), dropped
	}
	// Nothing newer has arrived: hold this place while the peer catches
	// up; after a while, wait out the delay again when it comes back.
	j.underrun++
	if j.underrun > j.delay+concealFrames {
		j.state = jitterIdle
	}
	return j.conceal(out), dropped
}

// conceal repeats the last frame, fading linearly to silence over
// concealFrames frames, then gives silence.
func (j *jitterBuffer) conceal(out *Frame) popResult {
	j.concealed++
	k := j.concealed
	if !j.haveLast || k > concealFrames {
		*out = Frame{}
		return popSilent
	}
	const den = concealFrames * FrameSamples
	g := int32((concealFrames + 1 - k) * FrameSamples)
	for i, v := range j.last {
		out[i] = int16(int32(v) * (g - int32(i)) / den)
	}
	return popConcealed
}
