package calls

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/media"
	"github.com/sambung/sambung/recordings"
	"github.com/sambung/sambung/store"
)

// recorder writes the call's stereo recording: what the caller sent on the
// left, what the caller heard on the right. It reads the session's ticks on
// a goroutine of its own behind a bounded channel, so a slow disk costs
// dropped frames (counted), never a stalled packet loop.
type recorder struct {
	c      *Call
	w      recordWriter
	sub    *media.Subscription
	meta   store.Recording
	path   string
	done   chan struct{}
	failed bool

	closeOnce sync.Once
	isClosed  atomic.Bool
}

// recordPolicy is the call's flow's recording policy (ivr Flow.RecordShare
// and RecordRetain): all, kept as long as recordings.retention says, for
// calls without a flow.
func (c *Call) recordPolicy() RecordPolicy {
	if c.app != nil || c.sb.cfg.Lines == nil || c.leg.To() == echoNumber {
		return RecordPolicy{Share: 1}
	}
	if f := c.sb.cfg.Lines.For(c.leg.To()); f != nil {
		return RecordPolicy{Share: f.RecordShare, Retain: f.RecordRetain}
	}
	return RecordPolicy{Share: 1}
}

// sampled says whether a call is recorded under a policy recording share
// of the calls, draw being the call's uniform draw in [0, 1).
func sampled(share, draw float64) bool { return share >= 1 || draw < share }

// recordWriter writes a recording: plain (recordings.Writer) or sealed
// at rest (recordings.SealedWriter).
type recordWriter interface {
	WriteFrame(left, right []int16) error
	Duration() time.Duration
	Close() error
}

// recordBuffer is how many 20 ms ticks may wait for the disk: 2 s.
const recordBuffer = 100

func (c *Call) startRecording() {
	dir := c.sb.cfg.RecordingsDir
	if dir == "" {
		return
	}
	policy := c.recordPolicy()
	if share := policy.Share; !sampled(share, rand.Float64()) {
		reason := "flow_policy"
		if share > 0 {
			reason = "not_sampled"
		}
		c.event("recording.skipped", map[string]any{"reason": reason, "share": share})
		return
	}
	now := time.Now().UTC()
	keys := c.sb.cfg.RecordingKeys
	name := c.ID + ".wav"
	if keys != nil {
		name = c.ID + recordings.SealedExt
	}
	rel := filepath.Join(now.Format("2006"), now.Format("01"), now.Format("02"), name)
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		c.log.Error("calls: recording directory", "err", err)
		return
	}
	var w recordWriter
	var err error
	if keys != nil {
		w, err = recordings.NewSealedWriter(path, keys, recordings.WriterConfig{})
	} else {
		w, err = recordings.NewWriter(path, recordings.WriterConfig{})
	}
	if err != nil {
		c.log.Error("calls: recording not started", "err", err)
		c.event("recording.failed", map[string]any{"error": err.Error()})
		return
	}
	rec := store.Recording{CallID: c.ID, Path: filepath.ToSlash(rel), Format: "wav", Channels: 2, SampleRate: media.Rate, StartedAt: now}
	if policy.Retain > 0 {
		rec.RetainUntil = now.Add(policy.Retain)
	}
	meta, err := c.sb.store.CreateRecording(c.ctx, rec)
	if err != nil {
		c.log.Error("calls: recording metadata not stored", "err", err)
	}
	r := &recorder{c: c, w: w, sub: c.sess.Subscribe(recordBuffer), meta: meta, path: path, done: make(chan struct{})}
	c.rec = r
	c.event("recording.started", map[string]any{"path": meta.Path})
	go r.run()
}

func (r *recorder) run() {
	defer close(r.done)
	var silence media.Frame
	for tick := range r.sub.C() {
		if r.failed {
			continue
		}
		left, right := tick.In[:], tick.Out[:]
		if r.c.paused() {
			left, right = silence[:], silence[:] // card details: the timeline goes on, silent
		}
		if err := r.w.WriteFrame(left, right); err != nil {
			r.failed = true
			r.c.log.Error("calls: recording write failed; the call goes on unrecorded", "err", err)
		}
	}
}

// stopped reports whether the recording has ended.
func (r *recorder) stopped() bool { return r.isClosed.Load() }

// stopRecording ends the recording before the call ends (a queue's
// policy), saying why on the timeline.
func (c *Call) stopRecording(why map[string]any) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	c.rec.close(ctx)
	c.event("recording.stopped", why)
}

// close stops the recorder, closes the file and stores its length, once:
// at the end of the call (the session has stopped ticking), or before.
func (r *recorder) close(ctx context.Context) {
	r.closeOnce.Do(func() { r.closeNow(ctx) })
}

func (r *recorder) closeNow(ctx context.Context) {
	r.isClosed.Store(true)
	r.sub.Unsubscribe()
	<-r.done
	dur := r.w.Duration()
	if err := r.w.Close(); err != nil {
		r.c.log.Error("calls: recording close failed", "err", err)
	}
	var size int64
	if fi, err := os.Stat(r.path); err == nil {
		size = fi.Size()
	}
	if r.meta.ID != 0 {
		if err := r.c.sb.store.FinishRecording(ctx, r.meta.ID, time.Time{}, dur, size); err != nil {
			r.c.log.Error("calls: recording metadata not finished", "err", err)
		}
	}
	r.c.event("recording.finished", map[string]any{"path": r.meta.Path, "duration_ms": dur.Milliseconds(),
		"bytes": size, "dropped_frames": r.sub.Dropped()})
}
