package calls

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/media"
)

// An agent whose record names a SIP phone (agents.Agent.Phone) takes calls
// on it: the offer rings the phone with an INVITE, and its answer is the
// agent's answer. The page, if open, shows the ring and the context, and
// its hold, keys and wrap-up work as for the browser.

// phoneLeg is an agent's desk phone on a call: our RTP session with the
// phone, as the agentMedia a bridge uses. Audio crosses between the
// phone's session and the caller's in small queues, each session taking
// one frame a tick.
type phoneLeg struct {
	out  Dialled
	sess *media.Session
	sub  *media.Subscription

	toPhone   *frameQueue // what the caller says
	fromPhone *frameQueue // what the agent says
	connected chan struct{}
	done      chan struct{}
	once      sync.Once
	mu        sync.Mutex
	err       error
}

// phoneJitter is how many frames each direction may hold: enough for the
// two sessions' ticks to drift apart by a frame or two.
const phoneJitter = 3

// dialPhone calls the agent's phone and returns its leg once answered.
func (d *Desk) dialPhone(ctx context.Context, phone string) (*phoneLeg, error) {
	sb := d.sb
	if sb.cfg.Dialer == nil {
		return nil, errors.New("this server places no calls (no Dialer)")
	}
	sess, err := media.NewSession(sb.cfg.Media, sb.log)
	if err != nil {
		return nil, fmt.Errorf("no media ports for the phone: %w", err)
	}
	out, err := sb.cfg.Dialer.Dial(ctx, phone, sess.LocalAddr(), webDTMFType)
	if err != nil {
		sess.Close()
		return nil, err
	}
	r := out.Remote()
	codec := media.PCMU
	if len(r.Codecs) > 0 {
		codec = r.Codecs[0]
	}
	sess.SetRemote(r.Addr, codec, r.DTMFPayloadType)
	l := &phoneLeg{out: out, sess: sess, toPhone: newFrameQueue(), fromPhone: newFrameQueue(),
		connected: make(chan struct{}), done: make(chan struct{})}
	close(l.connected)
	sess.Start(sb.base)
	sess.Play(l.toPhone)
	l.sub = sess.Subscribe(16)
	go func() { // ends when the subscription closes, or with the leg
		for {
			select {
			case tick, ok := <-l.sub.C():
				if !ok {
					return
				}
				l.fromPhone.put(tick.In[:])
			case <-out.Done():
				l.end(fmt.Errorf("the agent's phone hung up (%s)", out.EndReason()))
				return
			case <-sess.Done():
				l.end(fmt.Errorf("the agent's phone's media: %w", sess.Err()))
				return
			case <-l.done:
				return
			}
		}
	}()
	return l, nil
}

// ReadFrame gives what the agent says, silence while nothing came, until
// the phone's call ends.
func (l *phoneLeg) ReadFrame(f []int16) bool {
	select {
	case <-l.done:
		clear(f)
		return false
	default:
	}
	return l.fromPhone.ReadFrame(f)
}
func (l *phoneLeg) WriteFrame(f []int16) error { l.toPhone.put(f); return nil }
func (l *phoneLeg) Connected() <-chan struct{} { return l.connected }
func (l *phoneLeg) Done() <-chan struct{}      { return l.done }

func (l *phoneLeg) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close hangs up the phone and closes its session.
func (l *phoneLeg) Close() error {
	l.end(nil)
	return nil
}

func (l *phoneLeg) end(err error) {
	l.once.Do(func() {
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
		close(l.done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = l.out.Hangup(ctx)
		cancel()
		l.sub.Unsubscribe()
		l.sess.Close()
	})
}

// frameQueue passes 20 ms frames from one session's tick to another's:
// put drops the oldest when full, ReadFrame gives silence when empty.
type frameQueue struct {
	mu     sync.Mutex
	frames [phoneJitter]media.Frame
	head   int
	n      int
}

func newFrameQueue() *frameQueue { return &frameQueue{} }

func (q *frameQueue) put(f []int16) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == len(q.frames) {
		q.head = (q.head + 1) % len(q.frames)
		q.n--
	}
	copy(q.frames[(q.head+q.n)%len(q.frames)][:], f)
	q.n++
}

// ReadFrame takes the oldest frame, or silence: it is the media.Source a
// session plays, which never ends (a false would end it).
func (q *frameQueue) ReadFrame(f []int16) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		clear(f)
		return true
	}
	copy(f, q.frames[q.head][:])
	q.head = (q.head + 1) % len(q.frames)
	q.n--
	return true
}

// ringPhone offers c to an agent on their desk phone: it dials the phone
// for as long as the offer rings, and the phone's answer is the agent's
// (for the consult k, when set).
// A phone that refuses declines the offer; one that does not answer is
// left to the ACD's ring timeout.
func (d *Desk) ringPhone(ctx context.Context, c *Call, ag agents.Agent, contact Contact, k *consultation) {
	log := c.log.With("agent_id", ag.ID, "phone", ag.Phone)
	leg, err := d.dialPhone(ctx, ag.Phone)
	if err != nil {
		if ctx.Err() != nil {
			return // the ring was withdrawn (answered elsewhere, the caller left, timed out)
		}
		log.Warn("calls: the agent's phone did not take the call", "err", err)
		if errors.Is(err, ErrBusy) {
			if err := d.acd.Decline(context.WithoutCancel(ctx), ag.ID, c.ID); err == nil {
				d.unring(ag.ID, c.ID, "declined")
			}
		}
		return
	}
	if err := d.acd.Answer(context.WithoutCancel(ctx), ag.ID, c.ID); err != nil {
		_ = leg.Close()
		log.Warn("calls: the phone answered a call no longer offered", "err", err)
		return
	}
	d.mu.Lock()
	delete(d.rings, ag.ID)
	d.talks[ag.ID] = &talk{call: c, contact: contact, answered: time.Now(), phone: true, consult: k}
	d.mu.Unlock()
	if k != nil {
		d.consulted(c, k, agentConn{agent: ag, leg: leg})
		return
	}
	select {
	case c.connect <- agentConn{agent: ag, leg: leg}:
	case <-c.ctx.Done():
		_ = leg.Close()
		if err := d.acd.Hangup(context.WithoutCancel(c.ctx), ag.ID, c.ID); err != nil {
			log.Warn("calls: the ACD did not take the hang-up", "err", err)
		}
		d.ended(ag.ID, c.ID, "caller_hangup")
	}
}
