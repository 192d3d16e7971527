package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sambung/sambung/agents"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/store"
)

// How a queued call keeps the caller informed.
const (
	// announceFirst is when the caller first hears their place in line,
	// and announceEvery how often after that (while it changes).
	announceFirst = 4 * time.Second
	announceEvery = 45 * time.Second
	// callbackChoice is how long a caller has to press 1 for a callback.
	callbackChoice = 8 * time.Second
)

// agentConn is an agent's leg (their browser's, or their desk phone's),
// handed from the desk to the call.
type agentConn struct {
	agent agents.Agent
	leg   agentMedia
}

// target is where a queued call is to go: a queue, with the skills the
// agent must hold.
type target struct {
	queue    string
	skills   []string
	priority int
}

// queue puts the call in the ACD's queue and keeps the caller company
// until an agent takes it, the caller leaves, or the queue gives up. An
// agent's transfer puts the call back in a queue, the contact context
// going with it.
func (c *Call) queue(out ivr.Outcome) string {
	contact := newContact(c.ID, c.leg.From(), out.Context, out.Queue)
	contact.History = c.history()
	to := target{queue: out.Queue.Name, skills: out.Queue.Skills, priority: out.Queue.Priority}
	var consulted *agentConn // an agent the call was put through to after a consult
	for {
		var result string
		if consulted != nil {
			result = c.takeOver(*consulted, contact)
			consulted = nil
		} else {
			result = c.wait(&contact, to)
		}
		if result != resultTransferred {
			return result
		}
		tr := c.transferred
		contact.Transfers = append(contact.Transfers, tr.ContactTransfer)
		if tr.agent != nil {
			// The next agent is on the line already: no announcement, no
			// queue.
			consulted = tr.agent
			continue
		}
		c.say(contact.Language.Code, queueTexts.transferring)
		if tr.ToNumber != "" {
			if result := c.transferOut(contact, tr.ToNumber, tr.leg); result != "" {
				return result
			}
			// Nobody answered there: back to the queue the call was in.
			c.say(contact.Language.Code, queueTexts.transferFailed)
			continue
		}
		to = target{queue: tr.Queue, skills: tr.skills, priority: out.Queue.Priority}
	}
}

// takeOver bridges the call to the agent it was consulted with: they
// become the call's agent, with the contact context and its transfers.
func (c *Call) takeOver(a agentConn, contact Contact) string {
	d := c.sb.desk
	c.setContact(contact)
	c.storeContact()
	d.track(c)
	defer d.untrack(c)
	d.joined(a.agent.ID, c.deskID(), contact)
	return c.bridge(a, contact)
}

// resultTransferred is what the bridge returns when the agent transferred
// the call.
const resultTransferred = "transferred"

// wait queues the call for to and waits for an agent.
func (c *Call) wait(contact *Contact, to target) string {
	d := c.sb.desk
	c.queuePolicy(to.queue)
	contact.Queue, contact.Skills, contact.Priority = to.queue, to.skills, to.priority
	c.setContact(*contact)
	lang := contact.Language.Code
	w, err := d.acd.Enqueue(c.ctx, agents.Contact{CallID: c.ID, Queue: to.queue, Skills: to.skills,
		Tier: contact.Tier, Number: c.leg.From(), Priority: to.priority})
	if err != nil {
		c.log.Error("calls: the call could not be queued", "queue", to.queue, "err", err)
		c.event("call.queue_failed", map[string]any{"queue": to.queue, "error": err.Error()})
		c.say(lang, queueTexts.unavailable)
		return "no_agents"
	}
	defer w.Close()
	now := time.Now().UTC()
	contact.QueuedAt = &now
	c.setContact(*contact)
	c.storeContact()
	c.event("call.queued", map[string]any{"queue": to.queue, "skills": to.skills,
		"priority": to.priority, "contact": contact})
	d.track(c)
	defer d.untrack(c)

	hold := newLoop(c.sb.holdMusic)
	c.sess.Play(hold)
	announce := time.NewTimer(announceFirst)
	defer announce.Stop()
	var pos int
	var ewt time.Duration
	for {
		select {
		case <-c.ctx.Done():
			if err := w.Abandon(context.WithoutCancel(c.ctx)); err != nil {
				c.log.Warn("calls: recording the abandoned call failed", "err", err)
			}
			d.callGone(c.ID, "caller_hangup")
			return "caller_gone"
		case ev, ok := <-w.Events():
			if !ok {
				return "no_agents"
			}
			switch ev.Kind {
			case agents.EventOffered:
				d.offer(c, ev, w, nil)
				c.event("agent.offered", map[string]any{"agent_id": ev.Agent.ID, "agent": ev.Agent.Name})
			case agents.EventRingNoAnswer, agents.EventDeclined:
				d.unring(ev.Agent.ID, c.ID, string(ev.Kind))
				c.event("agent."+string(ev.Kind), map[string]any{"agent_id": ev.Agent.ID, "agent": ev.Agent.Name})
			case agents.EventPosition:
				pos, ewt = ev.Position, ev.EstimatedWait
			case agents.EventWidened, agents.EventOverflowed, agents.EventServiceLevelWarning:
				c.event("queue."+string(ev.Kind), map[string]any{"queue": ev.Queue, "skills": ev.Skills})
			case agents.EventMoved:
				// A supervisor moved the call: to a queue, or to one agent.
				data := map[string]any{"queue": ev.Queue, "by": ev.By}
				if ev.Agent != nil {
					data["agent_id"], data["agent"] = ev.Agent.ID, ev.Agent.Name
				}
				contact.Queue = ev.Queue
				c.setContact(*contact)
				c.event("queue.moved", data)
			case agents.EventDeadlineBreached:
				c.event("queue.deadline_breached", map[string]any{"queue": ev.Queue, "action": ev.Action})
				if ev.Action == agents.OfferCallback && c.offerCallback(w, lang) {
					return "callback"
				}
				c.sess.Play(hold)
			case agents.EventMaxWait:
				c.event("queue.max_wait", map[string]any{"queue": ev.Queue, "action": ev.Action})
				switch ev.Action {
				case agents.OfferVoicemail:
					if err := w.Leave(c.ctx, "voicemail"); err == nil {
						c.say(lang, queueTexts.voicemail)
						return c.voicemail()
					}
				case agents.OfferCallback:
					if c.offerCallback(w, lang) {
						return "callback"
					}
				}
				c.sess.Play(hold)
			}
		case <-announce.C:
			if pos > 0 {
				c.say(lang, positionText(lang, pos, ewt))
				c.sess.Play(hold)
			}
			announce.Reset(announceEvery)
		case a := <-c.connect:
			d.unringQuiet(a.agent.ID, c.ID)
			return c.bridge(a, *contact)
		}
	}
}

// offerCallback asks the caller whether they want a call back instead of
// waiting, and turns the call into a callback if they press 1. It reports
// whether it did.
func (c *Call) offerCallback(w *agents.Waiting, lang string) bool {
	if c.sb.cfg.Dialer == nil {
		return false // nobody could place the call back
	}
	c.drainInputs()
	c.say(lang, queueTexts.callbackOffer)
	t := time.NewTimer(callbackChoice)
	defer t.Stop()
	for {
		select {
		case in := <-c.inputs:
			if in.Digit != '1' {
				continue
			}
			err := w.RequestCallback(c.ctx)
			switch {
			case errors.Is(err, agents.ErrCallbackExists):
				c.say(lang, queueTexts.callbackExists)
			case err != nil:
				c.log.Warn("calls: callback request failed", "err", err)
				return false
			default:
				c.event("call.callback_requested", map[string]any{"number": c.leg.From()})
				c.say(lang, queueTexts.callbackTaken)
			}
			return true
		case <-t.C:
			return false
		case <-c.ctx.Done():
			return false
		}
	}
}

// drainInputs forgets keys pressed before a question.
func (c *Call) drainInputs() {
	for {
		select {
		case <-c.inputs:
		default:
			return
		}
	}
}

// say speaks text on the call and waits for it to end.
func (c *Call) say(lang, text string) {
	if text == "" {
		return
	}
	if v, ok := queueTexts.byLang(lang, text); ok {
		text = v
	}
	rt := c.sb.cfg.IVR
	if rt == nil || rt.Voice == nil {
		return
	}
	ps, err := rt.Voice.Speak(c.ctx, lang, text, []ivr.Piece{{Text: text}})
	if err != nil {
		c.log.Warn("calls: cannot say a queue message", "err", err)
		return
	}
	c.event("queue.said", map[string]any{"text": text, "language": lang})
	select {
	case <-c.Play(ivr.Spoken{Lang: lang, Text: text, Audio: ps}):
	case <-c.ctx.Done():
	}
}

// historyLength is how many earlier calls of the caller the agent sees.
const historyLength = 5

// history is the caller's earlier calls, newest first: when, how they
// ended, what they were about and what the agent made of them.
func (c *Call) history() []PastContact {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	calls, err := c.sb.store.ListCalls(ctx, store.CallFilter{From: c.leg.From(), Limit: historyLength + 1})
	if err != nil {
		c.log.Warn("calls: the caller's history is not available", "err", err)
		return nil
	}
	var out []PastContact
	for _, p := range calls {
		if p.ID == c.ID || len(out) == historyLength {
			continue
		}
		pc := PastContact{CallID: p.ID, At: p.StartedAt, Outcome: p.Outcome, Disposition: p.Disposition}
		var cx struct {
			Intent struct {
				Name string `json:"name"`
			} `json:"intent"`
		}
		if json.Unmarshal(p.Contact, &cx) == nil {
			pc.Intent = cx.Intent.Name
		}
		out = append(out, pc)
	}
	return out
}

// setContact makes x the call's contact context: a copy of its own, as
// the desk reads it from other goroutines.
func (c *Call) setContact(x Contact) { c.contact.Store(&x) }

// storeContact writes the call's contact context on its record.
func (c *Call) storeContact() {
	p := c.contact.Load()
	if p == nil {
		return
	}
	raw, err := json.Marshal(p)
	if err == nil {
		err = c.sb.store.SetCallContact(context.WithoutCancel(c.ctx), c.ID, raw)
	}
	if err != nil {
		c.log.Warn("calls: the contact context was not stored", "err", err)
	}
}

// positionText is the caller's place in line and the expected wait.
func positionText(lang string, pos int, ewt time.Duration) string {
	mins := int((ewt + 30*time.Second) / time.Minute)
	t := queueTexts.position[lang]
	if t.place == "" {
		t = queueTexts.position["en"]
	}
	s := fmt.Sprintf(t.place, pos)
	switch {
	case ewt <= 0:
	case mins < 1:
		s += " " + t.soon
	default:
		s += " " + fmt.Sprintf(t.wait, strconv.Itoa(mins))
	}
	return s
}

// queueMessages are what a queued caller hears: English texts, with
// their translations by language (other languages hear English).
type queueMessages struct {
	position                                                             map[string]positionTexts
	unavailable, voicemail, callbackOffer, callbackTaken, callbackExists string
	transferring, transferFailed, callbackIntro                          string
	tr                                                                   map[string]map[string]string
}

// positionTexts say the caller's place, the wait in minutes, or a wait
// under a minute.
type positionTexts struct{ place, wait, soon string }

// byLang is text in lang, when there is a translation.
func (q *queueMessages) byLang(lang, text string) (string, bool) {
	v, ok := q.tr[lang][text]
	return v, ok
}

var queueTexts = &queueMessages{
	position: map[string]positionTexts{
		"en":  {"You are number %d in the queue.", "The expected wait is about %s minutes.", "You will be answered in less than a minute."},
		"id":  {"Anda berada di antrean nomor %d.", "Perkiraan waktu tunggu sekitar %s menit.", "Anda akan dilayani dalam waktu kurang dari satu menit."},
		"zh":  {"您目前排在第%d位。", "预计等待大约%s分钟。", "我们将在一分钟内为您接通。"},
		"yue": {"你而家排第%d位。", "預計等候大約%s分鐘。", "我哋會喺一分鐘之內幫你接通。"},
	},
	unavailable:    "Sorry, nobody can take your call right now. Please call again later.",
	voicemail:      "Nobody is free to take your call. Please leave a message after the tone, then press hash.",
	callbackOffer:  "To keep your place in line and get a call back, press 1. To keep waiting, stay on the line.",
	callbackTaken:  "Thank you. We will call you back at this number, in your turn. Goodbye.",
	callbackExists: "You already have a call back waiting. We will call you in your turn. Goodbye.",
	transferring:   "Please hold while we transfer your call.",
	transferFailed: "Sorry, that line did not answer. You are back in the queue.",
	callbackIntro:  "Hello, this is the call back you asked for. This call may be recorded. Here is our agent.",
	tr: map[string]map[string]string{
		"id": {
			"Sorry, nobody can take your call right now. Please call again later.":                        "Maaf, saat ini tidak ada petugas yang dapat menerima panggilan Anda. Silakan hubungi kami lagi nanti.",
			"Nobody is free to take your call. Please leave a message after the tone, then press hash.":   "Semua petugas sedang sibuk. Silakan tinggalkan pesan setelah nada, lalu tekan tanda pagar.",
			"To keep your place in line and get a call back, press 1. To keep waiting, stay on the line.": "Untuk tetap di antrean dan kami telepon kembali, tekan 1. Untuk terus menunggu, tetap di saluran.",
			"Thank you. We will call you back at this number, in your turn. Goodbye.":                     "Terima kasih. Kami akan menelepon Anda kembali di nomor ini sesuai giliran Anda. Sampai jumpa.",
			"You already have a call back waiting. We will call you in your turn. Goodbye.":               "Anda sudah terdaftar untuk ditelepon kembali. Kami akan menelepon sesuai giliran Anda. Sampai jumpa.",
			"Please hold while we transfer your call.":                                                    "Mohon tunggu, panggilan Anda sedang kami alihkan.",
			"Sorry, that line did not answer. You are back in the queue.":                                 "Maaf, nomor tersebut tidak menjawab. Anda kembali ke antrean.",
			"Hello, this is the call back you asked for. This call may be recorded. Here is our agent.":   "Halo, ini panggilan balik yang Anda minta. Panggilan ini mungkin direkam. Berikut petugas kami.",
		},
		"zh": {
			"Sorry, nobody can take your call right now. Please call again later.":                        "抱歉，现在没有客服可以接听，请稍后再拨。",
			"Nobody is free to take your call. Please leave a message after the tone, then press hash.":   "客服正忙，请在提示音后留言，然后按井号键。",
			"To keep your place in line and get a call back, press 1. To keep waiting, stay on the line.": "如需保留排队位置并等待回电，请按1；继续等待请不要挂机。",
			"Thank you. We will call you back at this number, in your turn. Goodbye.":                     "谢谢，轮到您时我们会回电到这个号码。再见。",
			"You already have a call back waiting. We will call you in your turn. Goodbye.":               "您已经在等待回电，轮到您时我们会致电。再见。",
			"Please hold while we transfer your call.":                                                    "请稍候，正在为您转接。",
			"Sorry, that line did not answer. You are back in the queue.":                                 "抱歉，对方没有接听。您已回到排队中。",
			"Hello, this is the call back you asked for. This call may be recorded. Here is our agent.":   "您好，这是您预约的回电。本次通话可能会被录音。现在为您接通客服。",
		},
		"yue": {
			"Sorry, nobody can take your call right now. Please call again later.":                        "唔好意思，而家冇同事可以接聽，請遲啲再打嚟。",
			"Nobody is free to take your call. Please leave a message after the tone, then press hash.":   "同事而家好忙，請喺提示音之後留言，然後按井號。",
			"To keep your place in line and get a call back, press 1. To keep waiting, stay on the line.": "如果想保留排隊位置等我哋覆電，請按1；繼續等請唔好收線。",
			"Thank you. We will call you back at this number, in your turn. Goodbye.":                     "多謝，輪到你嘅時候我哋會打返呢個號碼俾你。再見。",
			"You already have a call back waiting. We will call you in your turn. Goodbye.":               "你已經登記咗覆電，輪到你嘅時候我哋會打俾你。再見。",
			"Please hold while we transfer your call.":                                                    "請稍等，而家幫你轉駁。",
			"Sorry, that line did not answer. You are back in the queue.":                                 "唔好意思，對方冇人聽。你已經返回排隊。",
			"Hello, this is the call back you asked for. This call may be recorded. Here is our agent.":   "你好，呢個係你預約嘅覆電。今次通話可能會錄音。而家幫你接通同事。",
		},
	},
}
