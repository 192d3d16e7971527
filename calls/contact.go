package calls

import (
	"fmt"
	"time"

	"github.com/sambung/sambung/ivr"
)

// ContactVersion is the version of the Contact's JSON shape. A change that
// removes or renames a field makes a new version; adding one does not.
const ContactVersion = 1

// Contact is the context of one call, built by the IVR and carried
// wherever the call goes: the agent's screen, supervisors' and QA pages,
// the call record and webhooks. Its JSON is the shape docs/softphone.md
// documents; fields are absent when unknown.
type Contact struct {
	V           int               `json:"v"`
	CallID      string            `json:"call_id"`
	Caller      Caller            `json:"caller"`
	Customer    *Customer         `json:"customer,omitempty"`
	Tier        string            `json:"tier,omitempty"`
	Language    ContactLanguage   `json:"language"`
	Intent      *ContactIntent    `json:"intent,omitempty"`
	Sentiment   ContactSentiment  `json:"sentiment"`
	Failures    []ContactFailure  `json:"failures,omitempty"`
	Queue       string            `json:"queue,omitempty"`
	Skills      []string          `json:"skills,omitempty"`
	Priority    int               `json:"priority"`
	QueuedAt    *time.Time        `json:"queued_at,omitempty"`
	Deadline    *time.Time        `json:"deadline,omitempty"`
	Path        []string          `json:"path,omitempty"`
	Transcript  []TranscriptLine  `json:"transcript,omitempty"`
	Disclosures []ContactNotice   `json:"disclosures,omitempty"`
	Variables   map[string]any    `json:"variables,omitempty"`
	History     []PastContact     `json:"history,omitempty"`
	Transfers   []ContactTransfer `json:"transfers,omitempty"`
	// CallbackTo is the number an agent is to call back, on a callback's
	// offer.
	CallbackTo string            `json:"callback_to,omitempty"`
	Flow       map[string]string `json:"flow,omitempty"` // name and version
}

// ContactTransfer is one agent's transfer of the call: to a queue, to one
// agent (by name) through the queue the call was in, or out to a number.
type ContactTransfer struct {
	From     string `json:"from"` // the agent who transferred it
	Queue    string `json:"queue,omitempty"`
	ToAgent  string `json:"to_agent,omitempty"`
	ToNumber string `json:"to_number,omitempty"`
	// Consulted: a warm transfer, the first agent having talked with the
	// next one first.
	Consulted bool      `json:"consulted,omitempty"`
	At        time.Time `json:"at"`
}

// Caller is who is calling, as the network says.
type Caller struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
}

// Customer is who the caller is to the business (the flow's CRM lookup).
type Customer struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Tier string `json:"tier,omitempty"`
}

// ContactLanguage is the call's language and how it got there.
type ContactLanguage struct {
	Code       string           `json:"code"`
	Confidence float64          `json:"confidence,omitempty"`
	Switches   []LanguageSwitch `json:"switches,omitempty"`
}

// LanguageSwitch is one change of the call's language.
type LanguageSwitch struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	How  string    `json:"how"` // step, asked, detected
	At   time.Time `json:"at"`
}

// ContactIntent is what the caller wants, as understood.
type ContactIntent struct {
	Name       string            `json:"name"`
	Confidence float64           `json:"confidence"`
	Slots      map[string]string `json:"slots,omitempty"`
}

// ContactSentiment is how the caller feels: the call's mood now (-1..1),
// whether they sounded angry, and each utterance's score in order.
type ContactSentiment struct {
	Score float64   `json:"score"`
	Angry bool      `json:"angry"`
	Trend []float64 `json:"trend,omitempty"`
}

// ContactFailure is one time the IVR did not understand the caller.
type ContactFailure struct {
	Step   string    `json:"step"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// TranscriptLine is one thing said (or keyed) on the call.
type TranscriptLine struct {
	At         time.Time `json:"at"`
	Speaker    string    `json:"speaker"` // caller, agent
	Text       string    `json:"text"`
	Intent     string    `json:"intent,omitempty"`
	Confidence float64   `json:"confidence,omitempty"`
	Language   string    `json:"language,omitempty"`
}

// ContactNotice is a disclosure the caller heard.
type ContactNotice struct {
	Text     string    `json:"text"`
	Language string    `json:"language"`
	At       time.Time `json:"at"`
}

// PastContact is an earlier call from the same number.
type PastContact struct {
	CallID      string    `json:"call_id"`
	At          time.Time `json:"at"`
	Outcome     string    `json:"outcome,omitempty"`
	Intent      string    `json:"intent,omitempty"`
	Disposition string    `json:"disposition,omitempty"`
}

// slotVariables are the flow variables that listen slots fill, shown as
// the intent's slots.
var slotVariables = map[string]bool{"order_number": true, "amount": true, "date": true}

// newContact builds the context of call id from what the IVR learnt. q is
// the queue request, or nil when the flow ended otherwise.
func newContact(id, caller string, cx *ivr.Context, q *ivr.QueueRequest) Contact {
	c := Contact{V: ContactVersion, CallID: id, Caller: Caller{Number: caller}}
	if cx == nil {
		return c
	}
	c.Flow = map[string]string{"name": cx.Flow, "version": cx.Version}
	// The customer comes from the flow's variables by name, whether or not
	// the queue step lists them.
	vars := cx.Variables
	cust := Customer{ID: str(vars["customer_id"]), Name: str(vars["customer_name"]), Tier: str(vars["tier"])}
	if cust != (Customer{}) {
		c.Customer = &cust
		c.Caller.Name = cust.Name
		c.Tier = cust.Tier
	}
	c.Language = ContactLanguage{Code: cx.Language}
	for _, s := range cx.Switches {
		c.Language.Switches = append(c.Language.Switches, LanguageSwitch{From: s.From, To: s.To, How: s.Reason, At: s.At})
	}
	if cx.Intent != "" {
		in := &ContactIntent{Name: cx.Intent, Confidence: cx.Confidence}
		for k, v := range cx.Variables {
			if s := str(v); slotVariables[k] && s != "" {
				if in.Slots == nil {
					in.Slots = map[string]string{}
				}
				in.Slots[k] = s
			}
		}
		c.Intent = in
	}
	c.Sentiment = ContactSentiment{Score: cx.Mood.Score, Angry: cx.Mood.Angry > 0}
	for _, h := range cx.Heard {
		line := TranscriptLine{At: h.At, Speaker: "caller", Text: h.Text, Intent: h.Intent, Confidence: h.Confidence, Language: h.Language}
		c.Transcript = append(c.Transcript, line)
		if h.Language != "" && h.Language == cx.Language && h.Confidence > c.Language.Confidence {
			c.Language.Confidence = h.Confidence
		}
		if len(h.Text) > 0 && h.Text[0] != '#' {
			c.Sentiment.Trend = append(c.Sentiment.Trend, h.Sentiment)
		}
	}
	for _, f := range cx.Failures {
		c.Failures = append(c.Failures, ContactFailure{Step: f.Step, Reason: f.Reason, At: f.At})
	}
	c.Path = cx.Path
	if d := cx.Disclosure; d.Text != "" {
		c.Disclosures = []ContactNotice{{Text: d.Text, Language: d.Language, At: d.At}}
	}
	if q != nil {
		c.Queue, c.Skills, c.Priority, c.Variables = q.Name, q.Skills, q.Priority, q.Variables
	}
	return c
}

// str is a variable's value as text; "" for nil.
func str(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
