package calls

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Recording policies. A flow says which of its calls are recorded and for
// how long (ivr.Flow.RecordShare, RecordRetain); a queue may say more for
// the calls that reach it (Config.QueuePolicies): none stops the
// recording as the call enters the queue, a sample keeps it for a share of
// calls only, and its retention replaces the flow's. A recording's
// retention is stored with it (store.Recording.RetainUntil), and the
// hourly retention job deletes it then (recordings.Expire); without one,
// recordings.retention applies.

// RecordPolicy is one policy: the share of calls recorded (1 all, 0 none)
// and, when positive, how long their recordings are kept.
type RecordPolicy struct {
	Share  float64
	Retain time.Duration
}

// ParseQueuePolicy reads one queue's policy as configured:
// NAME=all|none|N%[:RETAIN], RETAIN a duration such as 720h or 30d.
func ParseQueuePolicy(s string) (string, RecordPolicy, error) {
	name, rest, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", RecordPolicy{}, fmt.Errorf("%q is not QUEUE=all|none|N%%[:RETAIN], such as sales=none or support=20%%:720h", s)
	}
	share, retain, _ := strings.Cut(rest, ":")
	var p RecordPolicy
	switch share = strings.TrimSpace(share); {
	case share == "all":
		p.Share = 1
	case share == "none":
	case strings.HasSuffix(share, "%"):
		pc, err := strconv.ParseFloat(strings.TrimSuffix(share, "%"), 64)
		if err != nil || pc <= 0 || pc >= 100 {
			return "", p, fmt.Errorf("%s: %q is not a share of calls between 0%% and 100%%", name, share)
		}
		p.Share = pc / 100
	default:
		return "", p, fmt.Errorf("%s: %q is not all, none or a share such as 20%%", name, share)
	}
	if retain = strings.TrimSpace(retain); retain != "" {
		d, err := ParseRetention(retain)
		if err != nil {
			return "", p, fmt.Errorf("%s: %w", name, err)
		}
		p.Retain = d
	}
	return name, p, nil
}

// ParseRetention reads how long recordings are kept: a Go duration such
// as 720h, or whole days such as 90d.
func ParseRetention(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("retention %q is not a duration such as 720h or 90d", s)
}

// queuePolicy applies the policy of queue, if it has one, as the call
// enters it.
func (c *Call) queuePolicy(queue string) {
	p, ok := c.sb.cfg.QueuePolicies[queue]
	r := c.rec
	if !ok || r == nil || r.stopped() {
		return
	}
	if !sampled(p.Share, rand.Float64()) {
		reason := "queue_policy"
		if p.Share > 0 {
			reason = "not_sampled"
		}
		c.stopRecording(map[string]any{"reason": reason, "queue": queue, "share": p.Share})
		return
	}
	if p.Retain > 0 && r.meta.ID != 0 {
		until := r.meta.StartedAt.Add(p.Retain)
		if err := c.sb.store.SetRecordingRetention(context.WithoutCancel(c.ctx), r.meta.ID, until); err != nil {
			c.log.Warn("calls: the queue's retention was not stored", "queue", queue, "err", err)
			return
		}
		c.event("recording.retention", map[string]any{"queue": queue, "until": until})
	}
}
