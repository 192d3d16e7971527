package calls

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sambung/sambung/asr/intent"
	"github.com/sambung/sambung/ivr"
	"github.com/sambung/sambung/media"
)

// TestContactFromTheIVR checks that what the IVR learnt reaches the
// contact context, in the JSON shape docs/softphone.md promises.
func TestContactFromTheIVR(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cx := &ivr.Context{
		Flow: "demo", Version: "abc", Caller: "+6281100001111", Language: "id",
		Intent: "billing", Confidence: 0.87,
		Variables: map[string]any{"customer_name": "Ayu Lestari", "tier": "vip", "order_number": "12345", "csat": 0},
		Failures:  []ivr.Failure{{Step: "ask", Reason: ivr.ReasonNoMatch, At: at}},
		Path:      []string{"crm", "ask", "ask", "agent", "queue"},
		Heard: []ivr.Heard{
			{Step: "ask", Text: "#7", At: at},
			{Step: "ask", Text: "tagihan saya salah", Intent: "billing", Confidence: 0.87, Language: "id", Sentiment: -0.4, At: at.Add(time.Second)},
		},
		Mood:       intent.Mood{Score: -0.4, Angry: 1},
		Switches:   []ivr.Switch{{From: "en", To: "id", Reason: "step", At: at}},
		Disclosure: ivr.Disclosure{Text: "You are speaking with an automated assistant.", Language: "en", At: at},
	}
	q := &ivr.QueueRequest{Name: "support", Skills: []string{"language:id", "intent:billing"}, Priority: 10,
		Variables: map[string]any{"order_number": "12345"}}
	c := newContact("c1", "+6281100001111", cx, q)

	if c.Customer == nil || c.Customer.Name != "Ayu Lestari" || c.Tier != "vip" || c.Caller.Name != "Ayu Lestari" {
		t.Errorf("customer %+v tier %q caller %+v", c.Customer, c.Tier, c.Caller)
	}
	if c.Intent == nil || c.Intent.Name != "billing" || c.Intent.Slots["order_number"] != "12345" || len(c.Intent.Slots) != 1 {
		t.Errorf("intent %+v", c.Intent)
	}
	if c.Language.Code != "id" || c.Language.Confidence != 0.87 || len(c.Language.Switches) != 1 || c.Language.Switches[0].How != "step" {
		t.Errorf("language %+v", c.Language)
	}
	// The key press is in the transcript but has no sentiment.
	if len(c.Transcript) != 2 || c.Transcript[1].Speaker != "caller" || !slices.Equal(c.Sentiment.Trend, []float64{-0.4}) || !c.Sentiment.Angry {
		t.Errorf("transcript %+v sentiment %+v", c.Transcript, c.Sentiment)
	}
	if c.Queue != "support" || c.Priority != 10 || len(c.Skills) != 2 || len(c.Disclosures) != 1 || len(c.Failures) != 1 {
		t.Errorf("queue %q %d %v disclosures %v failures %v", c.Queue, c.Priority, c.Skills, c.Disclosures, c.Failures)
	}

	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"v", "call_id", "caller", "customer", "tier", "language", "intent", "sentiment", "failures",
		"queue", "skills", "priority", "path", "transcript", "disclosures"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, raw)
		}
	}
	if m["v"] != float64(ContactVersion) {
		t.Errorf("v = %v", m["v"])
	}

	// A call that reached the queue with nothing learnt: no customer, no
	// intent, and no nulls for the page to trip on.
	bare := newContact("c2", "100", &ivr.Context{Language: "en", Variables: map[string]any{}}, nil)
	raw, _ = json.Marshal(bare)
	var b map[string]any
	_ = json.Unmarshal(raw, &b)
	for _, k := range []string{"customer", "intent", "transcript", "history"} {
		if _, ok := b[k]; ok {
			t.Errorf("bare contact has %q: %s", k, raw)
		}
	}
}

// TestHoldMusicIsAudibleAndEndless checks the built-in music on hold: it
// is heard (well above silence, under speech level, never clipping) and
// it never runs out.
func TestHoldMusicIsAudibleAndEndless(t *testing.T) {
	src := newLoop(newHoldMusic())
	frame := make([]int16, media.FrameSamples)
	var sum float64
	var n, peak int
	for range 1500 { // 30 s, three times round
		if !src.ReadFrame(frame) {
			t.Fatal("the music ended")
		}
		for _, s := range frame {
			sum += float64(s) * float64(s)
			peak = max(peak, int(s), -int(s))
			n++
		}
	}
	rms := math.Sqrt(sum / float64(n))
	if rms < 200 || peak > 8000 {
		t.Errorf("hold music rms %.0f peak %d: want audible (rms >= 200) and quiet (peak <= 8000)", rms, peak)
	}
}
