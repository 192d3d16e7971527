package media

import "testing"

// jbFrame is a frame that says which packet it came from: every sample
// holds the sequence number.
func jbFrame(seq uint16) Frame {
	var f Frame
	for i := range f {
		f[i] = int16(seq)
	}
	return f
}

type jbHarness struct {
	t *testing.T
	j jitterBuffer
}

func newJB(t *testing.T, delay int) *jbHarness {
	h := &jbHarness{t: t}
	h.j.setDelay(delay)
	return h
}

func (h *jbHarness) put(seq uint16) insertResult {
	h.t.Helper()
	f, res := h.j.insert(seq, true)
	if res == inserted {
		if f == nil {
			h.t.Fatalf("insert %d: no frame to fill", seq)
		}
		*f = jbFrame(seq)
	}
	return res
}

// pop returns what played: the sequence number of a real frame, or -1 for
// concealment and -2 for silence.
func (h *jbHarness) pop() int {
	h.t.Helper()
	var out Frame
	res, _ := h.j.pop(&out)
	switch res {
	case popAudio:
		return int(uint16(out[0]))
	case popConcealed:
		return -1
	default:
		for _, v := range out {
			if v != 0 {
				h.t.Fatalf("silence with a non-zero sample %d", v)
			}
		}
		return -2
	}
}

func (h *jbHarness) expect(want ...int) {
	h.t.Helper()
	for i, w := range want {
		if got := h.pop(); got != w {
			h.t.Fatalf("pop %d of %v: got %d", i, want, got)
		}
	}
}

func TestJitterDelayAndOrder(t *testing.T) {
	h := newJB(t, 3)
	h.expect(-2, -2) // nothing yet
	h.put(10)
	h.expect(-2, -2, -2) // the delay: three frames
	h.put(11)
	h.put(12)
	h.expect(10, 11, 12)
}

func TestJitterReorder(t *testing.T) {
	h := newJB(t, 3)
	for _, seq := range []uint16{100, 102, 101, 104, 103} {
		if r := h.put(seq); r != inserted {
			t.Fatalf("insert %d: %v", seq, r)
		}
	}
	h.expect(-2, -2, -2, 100, 101, 102, 103, 104)
}

// A packet that arrives before the first one, while the delay runs, is
// still played in order.
func TestJitterReorderedStart(t *testing.T) {
	h := newJB(t, 3)
	h.put(51)
	h.expect(-2)
	h.put(50)
	h.expect(-2, -2, 50, 51)
}

func TestJitterDuplicates(t *testing.T) {
	h := newJB(t, 2)
	h.put(7)
	if r := h.put(7); r != insertDuplicate {
		t.Errorf("second 7 while buffered: %v, want duplicate", r)
	}
	h.put(8)
	h.expect(-2, -2, 7)
	if r := h.put(7); r != insertDuplicate {
		t.Errorf("7 again after it played: %v, want duplicate", r)
	}
	h.expect(8)
}

func TestJitterLate(t *testing.T) {
	h := newJB(t, 2)
	h.put(1)
	h.put(3)
	h.expect(-2, -2, 1)
	h.expect(-1) // 2 is missing and 3 is here: 2 is lost, concealed
	if r := h.put(2); r != insertLate {
		t.Errorf("2 after its playout: %v, want late", r)
	}
	h.expect(3)
}

func TestJitterWrapAround(t *testing.T) {
	h := newJB(t, 2)
	h.put(65533)
	h.put(65534)
	h.expect(-2, -2, 65533)
	h.put(0) // reordered across the wrap
	h.put(65535)
	h.put(2)
	h.put(1)
	h.expect(65534, 65535, 0, 1, 2)
	if r := h.put(65535); r != insertDuplicate {
		t.Errorf("65535 again after the wrap: %v, want duplicate", r)
	}
}

// A lost packet is concealed by the last frame fading out, then silence;
// the stream goes on after the gap.
func TestJitterConcealment(t *testing.T) {
	var j jitterBuffer
	j.setDelay(5) // deep enough that a gap of 5 is no burst to trim
	loud := Frame{}
	for i := range loud {
		loud[i] = 10000
	}
	put := func(seq uint16) {
		f, _ := j.insert(seq, true)
		*f = loud
	}
	var out Frame
	put(0)
	for range 5 {
		j.pop(&out) // the delay
	}
	if res, _ := j.pop(&out); res != popAudio || out != loud {
		t.Fatal("frame 0 not played")
	}
	put(6) // 1-5 lost
	var levels []float64
	for range 5 {
		res, _ := j.pop(&out)
		levels = append(levels, sessRMS(out[:]))
		if want := popConcealed; len(levels) > concealFrames {
			want = popSilent
			if res != want {
				t.Fatalf("gap frame %d: %v, want silence", len(levels), res)
			}
		} else if res != want {
			t.Fatalf("gap frame %d: %v, want concealment", len(levels), res)
		}
	}
	for i := 1; i < concealFrames; i++ {
		if !(levels[i] < levels[i-1]) || levels[0] > 10000 || levels[0] < 5000 {
			t.Fatalf("concealment does not fade: %v", levels)
		}
	}
	if levels[concealFrames] != 0 || levels[4] != 0 {
		t.Fatalf("no silence after the fade: %v", levels)
	}
	if res, _ := j.pop(&out); res != popAudio || out != loud {
		t.Fatal("the stream did not go on after the gap")
	}
}

// When the peer pauses, the buffer holds its place; after a long pause it
// waits out the delay again.
func TestJitterUnderrunAndRebuffer(t *testing.T) {
	h := newJB(t, 2)
	h.put(1)
	h.expect(-2, -2, 1)
	h.expect(-1)                     // 2 is late: conceal, hold the place
	h.put(2)                         // it comes
	h.expect(2)                      // and plays: nothing was skipped
	h.expect(-1, -1, -1, -2, -2, -2) // a long pause: fade, silence, idle
	h.put(3)
	h.expect(-2, -2, 3) // the delay again
}

// A burst beyond the delay (after a stall) is cut back to the delay,
// dropping the oldest frames.
func TestJitterTrim(t *testing.T) {
	h := newJB(t, 2)
	h.put(0)
	h.expect(-2, -2, 0)
	for seq := uint16(1); seq <= 10; seq++ {
		h.put(seq)
	}
	var out Frame
	res, dropped := h.j.pop(&out)
	if res != popAudio || dropped != 8 || out != jbFrame(9) {
		t.Fatalf("after a burst of 10: %v frame %d, %d dropped; want frame 9, 8 dropped", res, out[0]-1, dropped)
	}
	h.expect(10)
}

// Packets without audio (RFC 4733 events) take a sequence number but no
// time; a stream that jumps far ahead starts over.
func TestJitterSkipAndJump(t *testing.T) {
	h := newJB(t, 2)
	h.put(1)
	h.j.insert(2, false)
	h.j.insert(3, false)
	h.put(4)
	h.expect(-2, -2, 1, 4)
	h.put(4 + jitterSlots + 10)
	h.expect(-1, -1, 4+jitterSlots+10) // the last frame fades while the delay runs again
}
