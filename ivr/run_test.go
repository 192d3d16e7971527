package ivr

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sambung/sambung/asr"
)

// shopFlow is a small order-status line. Its CRM is the test's server.
const shopFlow = `
name: shop
languages: [en, id]
variables:
  customer_name: ""
  tier: "standard"
  order_number: ""
  order_state: ""
  csat: 0
intents:
  order_status:
    en: ["where is my order", "track my parcel", "order status"]
    id: ["di mana pesanan saya", "status pesanan"]
  refund:
    en: ["I want to return this", "refund"]
    id: ["saya mau mengembalikan barang", "uang kembali"]
knowledge:
  order:
    en: "Order {{order_number}} is {{order_state}}."
    id: "Pesanan {{order_number}} {{order_state}}."
escalation: {to: agent}
start: crm
steps:
  crm:
    lookup: {url: "/crm/customers/{{caller}}", timeout: 500ms, map: {customer_name: name, tier: tier}}
    next: ask
    on_failure: ask
  ask:
    listen:
      prompt: {en: "Hello {{customer_name}}. Say what you need, or press 1 for orders, 9 for Indonesian.", id: "Halo. Tekan 1 untuk pesanan."}
      intents: {order_status: number, refund: bye}
      digits: {"1": number, "9": indo}
      retries: 1
      reprompt: {en: "Sorry?", id: "Maaf?"}
      no_input: agent
      no_match: agent
  indo: {language: id, next: ask}
  number:
    gather: {prompt: {en: "Enter your order number, then hash.", id: "Masukkan nomor pesanan."}, max_digits: 8, terminator: "#", into: order_number, no_input: agent}
    next: order
  order:
    lookup: {url: "/crm/orders/{{order_number}}", timeout: 500ms, map: {order_state: state}}
    next: tell
    on_failure: agent
  tell: {answer: order, next: survey}
  survey:
    survey: {prompt: {en: "Rate us from 1 to 5.", id: "Beri nilai 1 sampai 5."}, into: csat}
    next: bye
  agent: {queue: {name: support, skills: [language, intent], priority: 'tier == "vip" ? 10 : 0', context: [tier, intent, language]}}
  bye: {hangup: {}}
`

// crm serves the test CRM: one customer and one order, a slow path and a
// garbage path.
func crm(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /crm/customers/{n}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("n") {
		case "+6281111":
			fmt.Fprint(w, `{"name": "Ayu", "tier": "vip"}`)
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "garbage":
			fmt.Fprint(w, `<html>502 Bad Gateway</html>`)
		case "wrongtype":
			fmt.Fprint(w, `{"name": {"first": "Ayu"}, "tier": "vip"}`)
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /crm/orders/{n}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("n") == "12345" {
			fmt.Fprint(w, `{"state": "shipped"}`)
			return
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// conversation runs flow src on a text call from caller with turns, and
// returns the outcome, what was said and the timeline.
type conversation struct {
	out    Outcome
	said   []string
	events []string
	data   []map[string]any
}

func converse(t *testing.T, f *Flow, rt *Runtime, caller string, turns ...Turn) *conversation {
	t.Helper()
	c := &conversation{}
	i := 0
	ch := &TextChannel{From: caller,
		Next: func() (Turn, bool) {
			if i >= len(turns) {
				return Turn{}, false
			}
			i++
			return turns[i-1], true
		},
		OnSay:   func(sp Spoken) { c.said = append(c.said, sp.Lang+": "+sp.Text) },
		OnEvent: func(k string, d map[string]any) { c.events = append(c.events, k); c.data = append(c.data, d) },
	}
	ctx := ch.Start(t.Context())
	c.out = rt.Run(ctx, f, ch)
	return c
}

func (c *conversation) event(kind string) map[string]any {
	for i, k := range c.events {
		if k == kind {
			return c.data[i]
		}
	}
	return nil
}

func mustParse(t *testing.T, src string) *Flow {
	t.Helper()
	f, diags := Parse("test.yaml", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("flow does not parse:\n%v", diags)
	}
	return f
}

func TestRunOrderStatusByDTMF(t *testing.T) {
	srv := crm(t)
	f := mustParse(t, shopFlow)
	rt := &Runtime{BaseURL: srv.URL}
	c := converse(t, f, rt, "+6281111", Turn{Press: "1"}, Turn{Press: "12345#"}, Turn{Press: "5"})

	if c.out.Kind != KindHangup || c.out.Err != nil {
		t.Fatalf("outcome %q err %v; said %q", c.out.Kind, c.out.Err, c.said)
	}
	want := []string{"crm", "ask", "number", "order", "tell", "survey", "bye"}
	if !slices.Equal(c.out.Context.Path, want) {
		t.Errorf("path %v, want %v", c.out.Context.Path, want)
	}
	if len(c.said) == 0 || !strings.Contains(c.said[0], "automated assistant") {
		t.Errorf("the call did not begin with the disclosure: %q", c.said)
	}
	if c.events[0] != "ivr.disclosure" || c.data[0]["at"] == "" {
		t.Errorf("first event %s %v, want ivr.disclosure with its time", c.events[0], c.data[0])
	}
	if !slices.Contains(c.said, "en: Hello Ayu. Say what you need, or press 1 for orders, 9 for Indonesian.") {
		t.Errorf("the CRM's name was not in the greeting: %q", c.said)
	}
	if !slices.Contains(c.said, "en: Order 12345 is shipped.") {
		t.Errorf("no order status: %q", c.said)
	}
	v := c.out.Context.Variables
	if v["order_number"] != "12345" || v["csat"] != 5 || v["tier"] != "vip" {
		t.Errorf("variables %v", v)
	}
	if e := c.event("ivr.survey"); e == nil || e["score"] != 5 {
		t.Errorf("survey event %v", e)
	}
}

func TestRunSpeechIntentAndLanguage(t *testing.T) {
	srv := crm(t)
	f := mustParse(t, shopFlow)
	rt := &Runtime{BaseURL: srv.URL}
	// Spoken in Indonesian on an English call: understood, and the call
	// switches language.
	c := converse(t, f, rt, "+6280000", Turn{Say: "di mana pesanan saya"}, Turn{Press: "777#"})
	if c.out.Context.Intent != "order_status" || c.out.Context.Language != "id" {
		t.Fatalf("intent %q language %q; events %v", c.out.Context.Intent, c.out.Context.Language, c.events)
	}
	if !slices.Contains(c.said, "id: Masukkan nomor pesanan.") {
		t.Errorf("the next prompt was not in Indonesian: %q", c.said)
	}
	// Order 777 is unknown: the lookup fails and the caller goes to a person.
	if c.out.Kind != KindQueue || c.out.Step != "agent" {
		t.Errorf("outcome %q at %q", c.out.Kind, c.out.Step)
	}
	if got := c.out.Queue.Skills; !slices.Equal(got, []string{"language:id", "intent:order_status"}) {
		t.Errorf("skills %v", got)
	}
	// What the agent is shown: the step's context variables, the switch
	// and the disclosure the call began with.
	if v := c.out.Queue.Variables; v["intent"] != "order_status" || v["language"] != "id" || v["tier"] != "standard" || len(v) != 3 {
		t.Errorf("queue variables %v", v)
	}
	if sw := c.out.Context.Switches; len(sw) != 1 || sw[0].From != "en" || sw[0].To != "id" || sw[0].Reason != "detected" || sw[0].At.IsZero() {
		t.Errorf("switches %+v", sw)
	}
	if d := c.out.Context.Disclosure; !strings.Contains(d.Text, "automated assistant") || d.Language != "en" || d.At.IsZero() {
		t.Errorf("disclosure %+v", d)
	}

	// The language step, by key.
	c = converse(t, f, rt, "+6280000", Turn{Press: "9"}, Turn{Press: "1"}, Turn{Silence: true})
	if c.out.Context.Language != "id" || c.event("ivr.language")["reason"] != "step" {
		t.Errorf("language %q, event %v", c.out.Context.Language, c.event("ivr.language"))
	}
}

func TestRunEscalationCountsEveryFailure(t *testing.T) {
	srv := crm(t)
	f := mustParse(t, shopFlow)
	rt := &Runtime{BaseURL: srv.URL}
	for _, tc := range []struct {
		name    string
		turns   []Turn
		reasons []string
	}{
		{"silence twice", []Turn{{Silence: true}, {Silence: true}}, []string{ReasonNoInput, ReasonNoInput}},
		{"nonsense then silence", []Turn{{Say: "purple monkey dishwasher"}, {Silence: true}}, []string{ReasonNone, ReasonNoInput}},
		{"wrong key then a person", []Turn{{Press: "7"}, {Say: "I want to talk to an agent"}}, []string{ReasonNoMatch, ReasonAskedForPerson}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := converse(t, f, rt, "+6281111", tc.turns...)
			if c.out.Kind != KindQueue || c.out.Step != "agent" {
				t.Fatalf("outcome %q at %q, want the queue; events %v", c.out.Kind, c.out.Step, c.events)
			}
			var got []string
			for _, fl := range c.out.Context.Failures {
				got = append(got, fl.Reason)
			}
			if !slices.Equal(got, tc.reasons) {
				t.Errorf("failure reasons %v, want %v", got, tc.reasons)
			}
			esc := c.event("ivr.escalated")
			if esc == nil || esc["to"] != "agent" {
				t.Errorf("no escalation event: %v", c.events)
			}
			if c.out.Queue.Priority != 10 {
				t.Errorf("a VIP's priority is %d, want 10", c.out.Queue.Priority)
			}
		})
	}
	// A success in between resets the count: one failure, an answer, one
	// failure does not escalate.
	c := converse(t, f, rt, "+6281111", Turn{Silence: true}, Turn{Press: "9"}, Turn{Silence: true}, Turn{Silence: true})
	if c.event("ivr.escalated") == nil || len(c.out.Context.Failures) != 3 {
		t.Errorf("failures %v; events %v", c.out.Context.Failures, c.events)
	}
	var escalatedAt int
	for i, k := range c.events {
		if k == "ivr.escalated" {
			escalatedAt = i
		}
	}
	if n := strings.Count(strings.Join(c.events[:escalatedAt], " "), "ivr.failure"); n != 3 {
		t.Errorf("escalated after %d failures, want after the 3rd (the key press reset the count)", n)
	}
}

func TestRunLookupFailures(t *testing.T) {
	srv := crm(t)
	f := mustParse(t, shopFlow)
	rt := &Runtime{BaseURL: srv.URL}
	for _, caller := range []string{"slow", "garbage", "wrongtype", "unknown"} {
		t.Run(caller, func(t *testing.T) {
			start := time.Now()
			c := converse(t, f, rt, caller, Turn{Press: "1"}, Turn{Press: "12345#"}, Turn{Press: "4"})
			if c.out.Kind != KindHangup || c.out.Err != nil {
				t.Fatalf("the call did not go on after the failed lookup: %q %v; %v", c.out.Kind, c.out.Err, c.events)
			}
			lk := c.event("ivr.lookup")
			if lk == nil || lk["ok"] != false || lk["error"] == "" {
				t.Errorf("lookup event %v", lk)
			}
			if c.out.Context.Variables["customer_name"] != "" || c.out.Context.Variables["tier"] != "standard" {
				t.Errorf("a failed lookup changed variables: %v", c.out.Context.Variables)
			}
			if !slices.Contains(c.said, "en: Hello . Say what you need, or press 1 for orders, 9 for Indonesian.") {
				t.Errorf("said %q", c.said)
			}
			if caller == "slow" && time.Since(start) > 4*time.Second {
				t.Errorf("the 500ms timeout did not cut the lookup short")
			}
		})
	}
}

// playChannel plays in real time: a prompt lasts 300 ms unless stopped,
// so barge-in can be seen.
type playChannel struct {
	inputs  chan Input
	mu      sync.Mutex
	done    chan struct{}
	played  []string // every prompt started
	stopped []string // the prompts Stop cut short
}

func (p *playChannel) Caller() string               { return "+1" }
func (p *playChannel) Inputs() <-chan Input         { return p.inputs }
func (p *playChannel) Event(string, map[string]any) {}

func (p *playChannel) Play(sp Spoken) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.played = append(p.played, sp.Text)
	done := make(chan struct{})
	p.done = done
	time.AfterFunc(300*time.Millisecond, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.done == done {
			close(done)
			p.done = nil
		}
	})
	return done
}

func (p *playChannel) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil {
		p.stopped = append(p.stopped, p.played[len(p.played)-1])
		close(p.done)
		p.done = nil
	}
}

func (p *playChannel) playing() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil || len(p.played) == 0 {
		return ""
	}
	return p.played[len(p.played)-1]
}

const bargeFlow = `
name: barge
languages: [en]
variables: {got: ""}
start: legal
steps:
  legal: {say: {en: "legal text"}, next: menu}
  menu: {say: {en: "long menu"}, interruptible: true, next: keys}
  keys:
    gather: {prompt: {en: "keys?"}, max_digits: 2, into: got, first_digit_timeout: 2s, inter_digit_timeout: 2s}
    next: bye
  bye: {hangup: {}}
`

// press sends key once text is playing.
func (p *playChannel) press(t *testing.T, text string, key rune) {
	deadline := time.Now().Add(10 * time.Second)
	for p.playing() != text {
		if time.Now().After(deadline) {
			t.Errorf("%q never played", text)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.inputs <- Input{Digit: key}
}

func TestRunBargeIn(t *testing.T) {
	f := mustParse(t, bargeFlow)
	t.Run("a key stops an interruptible prompt", func(t *testing.T) {
		ch := &playChannel{inputs: make(chan Input, 8)}
		res := make(chan Outcome)
		go func() { res <- (&Runtime{}).Run(t.Context(), f, ch) }()
		ch.press(t, "long menu", '4')
		// The key is kept: the gather's prompt is skipped, and it takes 4.
		ch.inputs <- Input{Digit: '2'}
		out := <-res
		if out.Kind != KindHangup || out.Context.Variables["got"] != "42" {
			t.Fatalf("outcome %q, variables %v", out.Kind, out.Context.Variables)
		}
		if !slices.Equal(ch.stopped, []string{"long menu"}) || slices.Contains(ch.played, "keys?") {
			t.Errorf("stopped %q, played %q; want only the menu stopped and keys? skipped", ch.stopped, ch.played)
		}
	})
	t.Run("a key during the disclosure does not stop it", func(t *testing.T) {
		ch := &playChannel{inputs: make(chan Input, 8)}
		res := make(chan Outcome)
		go func() { res <- (&Runtime{}).Run(t.Context(), f, ch) }()
		ch.press(t, f.Disclosure["en"], '4')
		ch.press(t, "legal text", '2')
		out := <-res
		if out.Context.Variables["got"] != "42" {
			t.Fatalf("variables %v", out.Context.Variables)
		}
		if len(ch.stopped) != 0 {
			t.Errorf("stopped %q; the disclosure and legal text are not interruptible", ch.stopped)
		}
		// The menu is skipped: the caller has already typed ahead.
		if !slices.Equal(ch.played, []string{f.Disclosure["en"], "legal text"}) {
			t.Errorf("played %q", ch.played)
		}
	})
}

func TestRunSubflowKeepsVariablesAndVersion(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(dir+"/"+name, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.yaml", `
name: main
languages: [en]
variables: {n: 1}
start: bump
steps:
  bump: {set: {n: 'n + 1'}, next: sub}
  sub: {goto: sub.yaml}
`)
	write("sub.yaml", `
name: sub
languages: [en]
variables: {n: 0, m: 5}
start: say
steps:
  say: {say: {en: "n is {{n}}, m is {{m}}"}, next: bye}
  bye: {hangup: {}}
`)
	f, err := Load(dir + "/main.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Reload the sub-flow on disk: the loaded flow keeps its version.
	write("sub.yaml", "name: sub\nlanguages: [en]\nstart: bye\nsteps:\n  bye: {hangup: {}}\n")
	c := converse(t, f, &Runtime{}, "+1")
	if !slices.Contains(c.said, "en: n is 2, m is 5") {
		t.Errorf("said %q", c.said)
	}
	if c.event("ivr.subflow")["to"] != "sub" {
		t.Errorf("events %v", c.events)
	}
}

func TestRunEndsWhenCallerLeaves(t *testing.T) {
	f := mustParse(t, shopFlow)
	ctx, cancel := context.WithCancel(t.Context())
	ch := &playChannel{inputs: make(chan Input)}
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	out := (&Runtime{BaseURL: "http://127.0.0.1:1"}).Run(ctx, f, ch)
	if out.Kind != "" || out.Err == nil {
		t.Errorf("outcome %q err %v, want none and the caller gone", out.Kind, out.Err)
	}
}

func TestRunLanguageAskedFor(t *testing.T) {
	srv := crm(t)
	f := mustParse(t, shopFlow)
	rt := &Runtime{BaseURL: srv.URL}
	// "bahasa Indonesia" switches and asks again, in Indonesian, without a
	// failure; then the caller goes on by key.
	c := converse(t, f, rt, "+6280000", Turn{Say: "bahasa Indonesia saja"}, Turn{Press: "1"}, Turn{Press: "12345#"}, Turn{Press: "5"})
	if c.out.Context.Language != "id" || len(c.out.Context.Failures) != 0 {
		t.Fatalf("language %q, failures %v", c.out.Context.Language, c.out.Context.Failures)
	}
	if e := c.event("ivr.language"); e == nil || e["reason"] != "asked" {
		t.Errorf("language event %v", e)
	}
	if !slices.Contains(c.said, "id: Halo. Tekan 1 untuk pesanan.") || !slices.Contains(c.said, "id: Pesanan 12345 shipped.") {
		t.Errorf("said %q", c.said)
	}
	// A sentence that only mentions a language is not a request for it.
	if got := askedLanguage("I bought an English dictionary and it has not arrived", []string{"en", "id"}); got != "" {
		t.Errorf("a long sentence asked for %q", got)
	}
	if got := askedLanguage("廣東話唔該", []string{"en", "yue"}); got != "yue" {
		t.Errorf("廣東話唔該 asked for %q", got)
	}
}

func TestRunDisclosureSaysWhetherRecorded(t *testing.T) {
	f := mustParse(t, "name: d\nlanguages: [en, id]\nstart: bye\nsteps:\n  bye: {hangup: {}}\n")
	c := converse(t, f, &Runtime{}, "+1")
	if len(c.said) == 0 || !strings.Contains(c.said[0], "may be recorded") {
		t.Errorf("recording server said %q", c.said)
	}
	c = converse(t, f, &Runtime{NotRecorded: true}, "+1")
	if len(c.said) == 0 || !strings.Contains(c.said[0], "is not recorded") {
		t.Errorf("non-recording server said %q", c.said)
	}
	// A flow that records none of its calls says so; a sample may be.
	none := mustParse(t, "name: d\nlanguages: [en]\nrecording: none\nstart: bye\nsteps:\n  bye: {hangup: {}}\n")
	if c = converse(t, none, &Runtime{}, "+1"); len(c.said) == 0 || !strings.Contains(c.said[0], "is not recorded") || none.RecordShare != 0 {
		t.Errorf("a flow recording none said %q (share %v)", c.said, none.RecordShare)
	}
	some := mustParse(t, "name: d\nlanguages: [en]\nrecording: 20%\nstart: bye\nsteps:\n  bye: {hangup: {}}\n")
	if c = converse(t, some, &Runtime{}, "+1"); len(c.said) == 0 || !strings.Contains(c.said[0], "may be recorded") || some.RecordShare != 0.2 {
		t.Errorf("a flow recording a sample said %q (share %v)", c.said, some.RecordShare)
	}
	if f.RecordShare != 1 || f.RecordRetain != 0 {
		t.Errorf("a flow with no policy records a share of %v, kept %v", f.RecordShare, f.RecordRetain)
	}
	kept := mustParse(t, "name: d\nlanguages: [en]\nrecording: {record: 50%, retain: 90d}\nstart: bye\nsteps:\n  bye: {hangup: {}}\n")
	if kept.RecordShare != 0.5 || kept.RecordRetain != 90*24*time.Hour {
		t.Errorf("recording: {record: 50%%, retain: 90d} gave a share of %v, kept %v", kept.RecordShare, kept.RecordRetain)
	}
	// A flow's own text is said as written.
	own := mustParse(t, "name: d\nlanguages: [en]\ndisclosure: {en: \"Robot here.\"}\nstart: bye\nsteps:\n  bye: {hangup: {}}\n")
	c = converse(t, own, &Runtime{NotRecorded: true}, "+1")
	if len(c.said) == 0 || c.said[0] != "en: Robot here." {
		t.Errorf("said %q", c.said)
	}
}

func TestRunSlotsAndSentiment(t *testing.T) {
	f := mustParse(t, `
name: slots
languages: [en]
variables: {order: "", refund_amount: 0.0, when: ""}
intents:
  order_status: {en: ["where is my order", "order status"]}
  complaint: {en: ["I want to make a complaint", "terrible service"]}
escalation: {to: bye}
start: ask
steps:
  ask:
    listen:
      prompt: {en: "Yes?"}
      intents: {order_status: ask, complaint: bye}
      slots: {digits: order, amount: refund_amount, date: when}
      no_input: bye
      no_match: bye
  bye: {hangup: {}}
`)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := converse(t, f, &Runtime{Now: func() time.Time { return now }}, "+1",
		Turn{Say: "where is my order one two three four five, I paid 25 dollars yesterday"},
		Turn{Say: "this is terrible service, I am so angry, this is ridiculous"})
	v := c.out.Context.Variables
	if v["order"] != "12345" || v["refund_amount"] != 25.0 || v["when"] != "2026-11-22" {
		t.Errorf("slots into variables: %v", v)
	}
	if e := c.event("ivr.slots"); e == nil {
		t.Errorf("no ivr.slots event: %v", c.events)
	}
	h := c.out.Context.Heard
	if len(h) != 2 || h[0].Angry || !h[1].Angry || h[1].Sentiment >= 0 {
		t.Errorf("heard %+v", h)
	}
	if c.out.Context.Mood.Angry != 1 || c.out.Context.Mood.Score >= 0 {
		t.Errorf("mood %+v", c.out.Context.Mood)
	}
	// An amount into a text variable is refused when the flow loads.
	_, diags := Parse("bad.yaml", []byte(strings.Replace(strings.Replace(`
name: bad
languages: [en]
variables: {x: ""}
start: ask
escalation: {to: bye}
steps:
  ask:
    listen: {prompt: {en: "Yes?"}, slots: {amount: x}, no_input: bye, no_match: bye}
  bye: {hangup: {}}
`, "\t", "", -1), "\r", "", -1)))
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "an amount is a number") {
		t.Errorf("diagnostics: %v", diags)
	}
}

func TestRunSpeechOverTheDisclosureIsNotAnAnswer(t *testing.T) {
	f := mustParse(t, `
name: s
languages: [en]
intents: {refund: {en: ["refund"]}}
escalation: {to: bye}
start: ask
steps:
  ask:
    listen: {prompt: {en: "Yes?"}, intents: {refund: bye}, no_input: bye, no_match: bye, timeout: 1s}
  bye: {hangup: {}}
`)
	ch := &playChannel{inputs: make(chan Input, 8)}
	res := make(chan Outcome)
	go func() { res <- (&Runtime{}).Run(t.Context(), f, ch) }()
	for ch.playing() != f.Disclosure["en"] {
		time.Sleep(5 * time.Millisecond)
	}
	ch.inputs <- Input{Speech: &asr.Result{Text: "refund", Final: true}}
	out := <-res
	if out.Context.Intent == "refund" || len(out.Context.Failures) == 0 || out.Context.Failures[0].Reason != ReasonNoInput {
		t.Errorf("speech over the disclosure was taken as the answer: intent %q, failures %v", out.Context.Intent, out.Context.Failures)
	}
}

// TestRunPCIStep: a pci step pauses the call and the next resumes it; keys
// pressed meanwhile reach nothing, not even the flow, and are on the
// timeline only as masked.
func TestRunPCIStep(t *testing.T) {
	f := mustParse(t, `
name: pay
languages: [en]
variables: {card: ""}
start: pause
steps:
  pause: {pci: pause, next: ask}
  ask:
    gather: {prompt: {en: "Card number?"}, max_digits: 16, into: card}
    next: resume
  resume: {pci: resume, next: bye}
  bye: {hangup: {}}
`)
	c := converse(t, f, &Runtime{}, "+1", Turn{Press: "4111111111111111"}, Turn{Silence: true})
	var kinds []string
	for _, k := range c.events {
		if strings.HasPrefix(k, "pci.") || k == "dtmf" {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 18 || kinds[0] != "pci.paused" || kinds[17] != "pci.resumed" {
		t.Errorf("pci and key events %v", kinds)
	}
	for i, d := range c.data {
		if c.events[i] == "dtmf" && d["masked"] != true {
			t.Errorf("a key during the pause: %v", d)
		}
	}
	if v := c.out.Context.Variables["card"]; v != "" {
		t.Errorf("the flow got the keys of the pause: card = %q", v)
	}
	if c.out.Kind != KindHangup {
		t.Errorf("the flow ended with %v", c.out.Kind)
	}
}
