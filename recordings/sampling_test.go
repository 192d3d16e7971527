package recordings

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/store"
)

var inQ4 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// testCalls makes n eligible calls, c00000 up, in one group (billing, en,
// 2026-Q4) spread over 20 agents, changed by change if not nil.
func testCalls(n int, change func(i int, c *store.Call)) []store.Call {
	calls := make([]store.Call, n)
	for i := range calls {
		calls[i] = store.Call{
			ID: fmt.Sprintf("c%05d", i), StartedAt: inQ4.Add(time.Duration(i) * time.Minute),
			Queue: "billing", Language: "en", AgentID: int64(100 + i%20),
			Resolution: store.ResolutionAgent, Duration: 3 * time.Minute,
		}
		if change != nil {
			change(i, &calls[i])
		}
	}
	return calls
}

// noMinimum samples at rate with no agent minimum, to see the draw alone.
func noMinimum(rate float64) SamplePolicy { return SamplePolicy{Rate: rate, MinPerAgent: -1} }

func pickedIDs(picks []Pick) []string {
	ids := make([]string, len(picks))
	for i, p := range picks {
		ids[i] = p.CallID
	}
	return ids
}

// mixedCalls has every stratum, three groups and two quarters.
func mixedCalls() []store.Call {
	return testCalls(1000, func(i int, c *store.Call) {
		c.Angry = i%10 == 0
		c.CSAT = i % 6
		c.Duration = time.Duration(60+i%900) * time.Second
		if i%3 == 0 {
			c.Language = "id"
		}
		if i%7 == 0 {
			c.StartedAt = inQ4.AddDate(0, -3, 0)
		}
	})
}

func TestSampleDeterministic(t *testing.T) {
	calls := mixedCalls()
	evaluated := map[string]bool{"c00010": true, "c00500": true}
	reviewers := []int64{3, 1, 2}
	want := Sample(calls, evaluated, reviewers, SamplePolicy{}, 42)
	if len(want) < 50 {
		t.Fatalf("only %d picks", len(want))
	}
	if !slices.IsSortedFunc(want, func(a, b Pick) int { return strings.Compare(a.CallID, b.CallID) }) {
		t.Error("picks are not sorted by call id")
	}
	shuffled := slices.Clone(calls)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	kept := slices.Clone(shuffled)
	got := Sample(shuffled, evaluated, []int64{2, 3, 1}, SamplePolicy{}, 42)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shuffled calls and reviewers gave another sample:\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(shuffled, kept) {
		t.Error("Sample reordered its input")
	}
	// A call given twice counts once.
	if got := Sample(append(shuffled, calls...), evaluated, reviewers, SamplePolicy{}, 42); !reflect.DeepEqual(got, want) {
		t.Errorf("repeated calls changed the sample: %d picks, want %d", len(got), len(want))
	}
}

func TestSampleSeedChangesSample(t *testing.T) {
	calls := mixedCalls()
	a := pickedIDs(Sample(calls, nil, nil, noMinimum(0), 1))
	b := pickedIDs(Sample(calls, nil, nil, noMinimum(0), 2))
	if len(a) != len(b) {
		t.Errorf("the seed changed how many were picked: %d and %d", len(a), len(b))
	}
	same := 0
	for _, id := range a {
		if slices.Contains(b, id) {
			same++
		}
	}
	// Two independent 5% samples share about 5% of their calls; allow far more.
	if same > len(a)/2 {
		t.Errorf("seeds 1 and 2 share %d of %d picks", same, len(a))
	}
}

func TestSampleRatePerGroup(t *testing.T) {
	for _, c := range []struct {
		rate   float64
		calls  int
		picked int
	}{
		{0.05, 1000, 50},
		{0.05, 30, 2}, // 1.5, rounded up
		{0.05, 1, 1},
		{0.07, 100, 7}, // 0.07*100 is 7.000000000000001 in floating point
		{0.5, 3, 2},
		{1, 10, 10},
		{2, 10, 10},   // clamped to all
		{-1, 10, 0},   // off
		{0, 1000, 50}, // the default
	} {
		got := Sample(testCalls(c.calls, nil), nil, nil, noMinimum(c.rate), 1)
		if len(got) != c.picked {
			t.Errorf("rate %v of %d calls: %d picks, want %d", c.rate, c.calls, len(got), c.picked)
		}
	}

	// Groups are queue, language and quarter, each sampled on its own.
	calls := testCalls(1100, func(i int, c *store.Call) {
		switch {
		case i >= 1090: // 10 calls in Q3
			c.StartedAt = time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC)
		case i >= 1060: // 30 calls in Indonesian
			c.Language = "id"
		case i >= 1000: // 60 calls to sales
			c.Queue = "sales"
		}
	})
	queueLanguage := map[string]string{}
	for _, c := range calls {
		queueLanguage[c.ID] = c.Queue + "/" + c.Language
	}
	counts := map[string]int{}
	for _, p := range Sample(calls, nil, nil, noMinimum(0.05), 1) {
		counts[p.Period+"/"+queueLanguage[p.CallID]]++
	}
	want := map[string]int{"2026-Q4/billing/en": 50, "2026-Q4/sales/en": 3, "2026-Q4/billing/id": 2, "2026-Q3/billing/en": 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("picks per group = %v, want %v", counts, want)
	}
}

func TestSampleFilters(t *testing.T) {
	calls := []store.Call{
		{ID: "ok", AgentID: 1, Duration: time.Minute},
		{ID: "resolved-by-agent", Resolution: store.ResolutionAgent, Duration: time.Hour},
		{ID: "short", AgentID: 1, Duration: time.Minute - time.Millisecond},
		{ID: "live", AgentID: 1},
		{ID: "evaluated", AgentID: 1, Duration: time.Hour},
		{ID: "ivr", Resolution: store.ResolutionIVR, Duration: time.Hour},
		{ID: "abandoned", Resolution: store.ResolutionAbandoned, Duration: time.Hour},
		{ID: "unknown", Duration: time.Hour},
	}
	evaluated := map[string]bool{"evaluated": true}
	for _, c := range []struct {
		name string
		p    SamplePolicy
		want []string
	}{
		{"everything eligible", noMinimum(1), []string{"ok", "resolved-by-agent"}},
		{"agent minimums only", SamplePolicy{Rate: -1, MinPerAgent: 10}, []string{"ok"}},
		{"no minimum duration", SamplePolicy{Rate: 1, MinDuration: -1}, []string{"ok", "resolved-by-agent", "short"}},
		{"longer minimum duration", SamplePolicy{Rate: 1, MinDuration: 2 * time.Minute}, []string{"resolved-by-agent"}},
	} {
		got := pickedIDs(Sample(calls, evaluated, nil, c.p, 1))
		slices.Sort(c.want)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: picked %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSampleReasons(t *testing.T) {
	angry := func(c *store.Call) { c.Angry = true }
	csat := func(n int) func(*store.Call) { return func(c *store.Call) { c.CSAT = n } }
	lasting := func(d time.Duration) func(*store.Call) { return func(c *store.Call) { c.Duration = d } }
	for _, c := range []struct {
		name   string
		p      SamplePolicy
		change []func(*store.Call)
		want   string
	}{
		{"plain", SamplePolicy{}, nil, ReasonRandom},
		{"angry", SamplePolicy{}, []func(*store.Call){angry}, ReasonAngry},
		{"csat 1", SamplePolicy{}, []func(*store.Call){csat(1)}, ReasonLowCSAT},
		{"csat 2", SamplePolicy{}, []func(*store.Call){csat(2)}, ReasonLowCSAT},
		{"csat 3", SamplePolicy{}, []func(*store.Call){csat(3)}, ReasonRandom},
		{"never rated", SamplePolicy{}, []func(*store.Call){csat(0)}, ReasonRandom},
		{"10 min", SamplePolicy{}, []func(*store.Call){lasting(10 * time.Minute)}, ReasonLong},
		{"just under 10 min", SamplePolicy{}, []func(*store.Call){lasting(10*time.Minute - time.Second)}, ReasonRandom},
		{"long set to 5 min", SamplePolicy{LongCall: 5 * time.Minute}, []func(*store.Call){lasting(6 * time.Minute)}, ReasonLong},
		{"long off", SamplePolicy{LongCall: -1}, []func(*store.Call){lasting(time.Hour)}, ReasonRandom},
		{"angry and long: angry weighs more", SamplePolicy{}, []func(*store.Call){angry, lasting(time.Hour)}, ReasonAngry},
		{"angry and low CSAT tie: angry first", SamplePolicy{}, []func(*store.Call){angry, csat(1)}, ReasonAngry},
		{"low CSAT and long", SamplePolicy{}, []func(*store.Call){csat(2), lasting(time.Hour)}, ReasonLowCSAT},
		{"long weighs more", SamplePolicy{Weights: StratumWeights{Long: 5}}, []func(*store.Call){angry, lasting(time.Hour)}, ReasonLong},
		{"angry not weighted", SamplePolicy{Weights: StratumWeights{Angry: 1}}, []func(*store.Call){angry}, ReasonRandom},
		{"weight under 1 counts as 1", SamplePolicy{Weights: StratumWeights{Angry: 0.5}}, []func(*store.Call){angry}, ReasonRandom},
	} {
		call := store.Call{ID: "c", AgentID: 1, Duration: 2 * time.Minute}
		for _, f := range c.change {
			f(&call)
		}
		c.p.Rate = 1
		got := Sample([]store.Call{call}, nil, nil, c.p, 1)
		if len(got) != 1 || got[0].Reason != c.want {
			t.Errorf("%s: picks %+v, want reason %q", c.name, got, c.want)
		}
	}
}

// TestSampleOverRepresentsAngry draws 5% of 1000 calls, 100 of them angry
// with weight 3, under 400 seeds. A first draw picks an angry call with
// probability 3*100 / (3*100 + 900) = 25%; as angry calls run out faster
// than the others the share drifts down, to the figure the recurrence below
// gives (24.2%). Within a sample the 50 picks are at most as spread as a
// binomial (sd sqrt(50*0.25*0.75) = 3.1 calls), so the mean share over 400
// samples has a standard error under 3.1/50/sqrt(400) = 0.31 points: the
// tolerance of 1.5 points is nearly 5 standard errors. The seeds are fixed,
// so the test is deterministic; the margin shows it does not pass by luck.
func TestSampleOverRepresentsAngry(t *testing.T) {
	const (
		total, angry, picks, seeds = 1000, 100, 50, 400
		weight                     = 3.0
		tolerance                  = 0.015
	)
	calls := testCalls(total, func(i int, c *store.Call) { c.Angry = i%(total/angry) == 0 })
	isAngry := map[string]bool{}
	for _, c := range calls {
		isAngry[c.ID] = c.Angry
	}
	share := func(p SamplePolicy) float64 {
		n, a := 0, 0
		for seed := range uint64(seeds) {
			for _, pk := range Sample(calls, nil, nil, p, seed) {
				n++
				if isAngry[pk.CallID] {
					a++
				}
				if want := isAngry[pk.CallID] && p.Weights.Angry > 1; want != (pk.Reason == ReasonAngry) {
					t.Fatalf("seed %d: %+v: reason %q, angry %t", seed, pk, pk.Reason, isAngry[pk.CallID])
				}
			}
		}
		if n != seeds*picks {
			t.Fatalf("%d picks, want %d", n, seeds*picks)
		}
		return float64(a) / float64(n)
	}
	// The expected number of angry calls after each draw, one draw at a time.
	var drawn float64
	for k := range picks {
		left := weight * (angry - drawn)
		drawn += left / (left + float64(total-angry) - (float64(k) - drawn))
	}
	want := drawn / picks

	got := share(SamplePolicy{Rate: 0.05, MinPerAgent: -1, Weights: StratumWeights{Angry: weight}})
	t.Logf("angry share of picks: %.2f%%, expected %.2f%%", 100*got, 100*want)
	if math.Abs(got-want) > tolerance {
		t.Errorf("angry calls are %.2f%% of picks, want %.2f%% ± %.1f", 100*got, 100*want, 100*tolerance)
	}
	// Unweighted, the same draw gives angry calls their share of the calls.
	even := share(SamplePolicy{Rate: 0.05, MinPerAgent: -1, Weights: StratumWeights{Angry: 1}})
	if math.Abs(even-0.10) > tolerance {
		t.Errorf("with no weight angry calls are %.2f%% of picks, want 10%% ± %.1f", 100*even, 100*tolerance)
	}
}

func TestSampleAgentMinimum(t *testing.T) {
	calls := testCalls(1000, nil) // 20 agents, 50 calls each: 50 picks leave some short of 2
	calls = append(calls,
		store.Call{ID: "d1", AgentID: 7, Duration: time.Hour, Queue: "sales", StartedAt: inQ4},
		store.Call{ID: "d2", AgentID: 8, Duration: time.Hour, Queue: "sales", StartedAt: inQ4},
		store.Call{ID: "d3", AgentID: 8, Duration: time.Second, Queue: "sales", StartedAt: inQ4}, // too short
	)
	for i := range 3 { // agent 9: three calls in each of two quarters
		calls = append(calls,
			store.Call{ID: fmt.Sprintf("e%d", i), AgentID: 9, Duration: time.Hour, Queue: "vip", StartedAt: inQ4},
			store.Call{ID: fmt.Sprintf("f%d", i), AgentID: 9, Duration: time.Hour, Queue: "vip", StartedAt: inQ4.AddDate(0, 3, 0)})
	}
	eligible := map[string]int{} // by agent and quarter
	key := map[string]string{}
	for _, c := range calls {
		key[c.ID] = fmt.Sprintf("%s/%d", Period(c.StartedAt), c.AgentID)
		if c.Duration >= time.Minute {
			eligible[key[c.ID]]++
		}
	}
	count := func(picks []Pick) map[string]int {
		n := map[string]int{}
		for _, p := range picks {
			n[key[p.CallID]]++
		}
		return n
	}

	for seed := range uint64(5) {
		drawn := Sample(calls, nil, nil, noMinimum(0.05), seed)
		topped := Sample(calls, nil, nil, SamplePolicy{Rate: 0.05, MinPerAgent: 2}, seed)
		before, after := count(drawn), count(topped)
		deficit := 0
		for k, n := range eligible {
			want := max(before[k], min(2, n))
			deficit += want - before[k]
			if after[k] != want {
				t.Errorf("seed %d: %s has %d picks, want %d (%d drawn, %d eligible)", seed, k, after[k], want, before[k], n)
			}
		}
		var added []Pick
		for _, p := range topped {
			if p.Reason == ReasonAgentMinimum {
				added = append(added, p)
			} else if !slices.Contains(drawn, p) {
				t.Errorf("seed %d: %+v was not in the draw", seed, p)
			}
		}
		if len(added) != deficit || len(topped) != len(drawn)+deficit || deficit == 0 {
			t.Errorf("seed %d: %d drawn, %d added for agents, want %d added (and some)", seed, len(drawn), len(added), deficit)
		}
		if slices.Contains(pickedIDs(topped), "d3") {
			t.Errorf("seed %d: the short call was picked to make up a minimum", seed)
		}
	}
}

func TestSampleAssignsRoundRobin(t *testing.T) {
	calls := testCalls(50, nil) // agents 100..119
	count := func(picks []Pick) map[int64]int {
		n := map[int64]int{}
		for _, p := range picks {
			n[p.AssigneeID]++
		}
		return n
	}
	all := noMinimum(1)

	got := count(Sample(calls, nil, []int64{30, 10, 20, 10, 0}, all, 1))
	if want := map[int64]int{10: 17, 20: 17, 30: 16}; !reflect.DeepEqual(got, want) {
		t.Errorf("picks per reviewer = %v, want %v", got, want)
	}
	if got := count(Sample(calls, nil, nil, all, 1)); !reflect.DeepEqual(got, map[int64]int{0: 50}) {
		t.Errorf("with no reviewers: %v, want all unassigned", got)
	}

	// Agent 101 also reviews: never their own calls, and the share stays even.
	agentOf := map[string]int64{}
	for _, c := range calls {
		agentOf[c.ID] = c.AgentID
	}
	picks := Sample(calls, nil, []int64{101, 500}, all, 1)
	for _, p := range picks {
		if p.AssigneeID == agentOf[p.CallID] {
			t.Errorf("reviewer %d got their own call %s", p.AssigneeID, p.CallID)
		}
	}
	if got := count(picks); got[101] != 25 || got[500] != 25 {
		t.Errorf("picks per reviewer = %v, want 25 each", got)
	}
	// An agent who is the only reviewer leaves their calls unassigned.
	for _, p := range Sample(calls, nil, []int64{101}, all, 1) {
		if own := agentOf[p.CallID] == 101; own != (p.AssigneeID == 0) {
			t.Errorf("%s (own call: %t) assigned to %d", p.CallID, own, p.AssigneeID)
		}
	}
}

func TestPeriod(t *testing.T) {
	jakarta := time.FixedZone("WIB", 7*60*60)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 31, 23, 59, 59, 999999999, time.UTC), "2026-Q1"},
		{time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), "2026-Q2"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026-Q1"},
		{time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC), "2026-Q2"},
		{time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "2026-Q3"},
		{time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), "2026-Q4"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "2026-Q4"},
		// 06:00 on 1 April in Jakarta is still 31 March in UTC.
		{time.Date(2026, 4, 1, 6, 0, 0, 0, jakarta), "2026-Q1"},
		{time.Date(2027, 1, 1, 6, 59, 0, 0, jakarta), "2026-Q4"},
	} {
		if got := Period(c.t); got != c.want {
			t.Errorf("Period(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}

var defaultPolicy = SamplePolicy{Rate: 0.05, MinPerAgent: 2, MinDuration: time.Minute, LongCall: 10 * time.Minute,
	Weights: StratumWeights{Angry: 3, LowCSAT: 3, Long: 2}}

func TestParseSamplePolicy(t *testing.T) {
	with := func(change func(*SamplePolicy)) SamplePolicy { p := defaultPolicy; change(&p); return p }
	for _, c := range []struct {
		spec string
		want SamplePolicy
	}{
		{"", defaultPolicy},
		{"rate=5%,min_per_agent=2,min_duration=60s,long=10m,weights=angry:3;low_csat:3;long:2", defaultPolicy},
		{"rate=0.05", defaultPolicy},
		{" rate = 12.5% , weights = long:4 ,", with(func(p *SamplePolicy) { p.Rate = 0.125; p.Weights.Long = 4 })},
		{"min_per_agent=5,min_duration=2m30s", with(func(p *SamplePolicy) { p.MinPerAgent = 5; p.MinDuration = 150 * time.Second })},
		{"rate=100%,weights=angry:1.5;low_csat:1", with(func(p *SamplePolicy) { p.Rate = 1; p.Weights.Angry = 1.5; p.Weights.LowCSAT = 1 })},
		{"rate=0%,min_per_agent=0,min_duration=0,long=0s", with(func(p *SamplePolicy) {
			p.Rate, p.MinPerAgent, p.MinDuration, p.LongCall = -1, -1, -1, -1
		})},
	} {
		got, err := ParseSamplePolicy(c.spec)
		if err != nil || got != c.want {
			t.Errorf("ParseSamplePolicy(%q) = %+v, %v\nwant %+v", c.spec, got, err, c.want)
		}
	}
}

func TestParseSamplePolicyErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"rate=150%", `"rate=150%": rate "150%": give a percentage from 0% to 100%`},
		{"rate=5", `"rate=5": rate "5"`},
		{"rate=-1%", `"rate=-1%"`},
		{"rate=NaN", `"rate=NaN"`},
		{"rate=five", `"rate=five"`},
		{"min_per_agent=2,rate", `"rate": want key=value`},
		{"rate=5%,rate=1%", `"rate=1%": rate is already set by "rate=5%"`},
		{"ratio=5%", `"ratio=5%": unknown key "ratio": the keys are rate, min_per_agent, min_duration, long and weights`},
		{"min_per_agent=-1", `"min_per_agent=-1": "-1" is not a whole number of calls`},
		{"min_per_agent=1.5", `"min_per_agent=1.5"`},
		{"min_duration=60", `"min_duration=60": "60" is not a duration`},
		{"long=-5m", `"long=-5m": "-5m" is not a duration of 0 or more`},
		{"weights=angry:0.5", `"weights=angry:0.5": weight "angry:0.5": "0.5" is not a number of 1 or more`},
		{"weights=angry:3;rude:2", `"weights=angry:3;rude:2": weight "rude:2": unknown stratum "rude"`},
		{"weights=angry", `weight "angry": want stratum:weight`},
		{"weights=angry:3;angry:4", `weight "angry:4": angry is given twice`},
		{"weights=angry:Inf", `weight "angry:Inf"`},
		{"weights=", `"weights=": no weights`},
	} {
		_, err := ParseSamplePolicy(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSamplePolicy(%q) error %v\nwant it to say %q", c.spec, err, c.want)
		}
	}
}

func TestSamplePolicyString(t *testing.T) {
	const want = "rate=5%,min_per_agent=2,min_duration=1m0s,long=10m0s,weights=angry:3;low_csat:3;long:2"
	if got := (SamplePolicy{}).String(); got != want {
		t.Errorf("the default policy writes as %q, want %q", got, want)
	}
	for _, p := range []SamplePolicy{
		{},
		{Rate: 1.0 / 3, MinPerAgent: -1, MinDuration: -1, LongCall: -1},
		{Rate: 0.07, MinPerAgent: 9, MinDuration: 90 * time.Second, Weights: StratumWeights{Angry: 2.5, Long: 1}},
	} {
		back, err := ParseSamplePolicy(p.String())
		if err != nil || back != p.withDefaults() {
			t.Errorf("%+v writes as %q, which reads back as %+v, %v", p, p, back, err)
		}
	}
}

// FuzzParseSamplePolicy checks that ParseSamplePolicy never panics and
// that what it accepts writes back (String) as a spec that reads the same.
func FuzzParseSamplePolicy(f *testing.F) {
	f.Add("rate=5%,min_per_agent=2,min_duration=60s,long=10m,weights=angry:3;low_csat:3;long:2")
	f.Add("rate=0.0333,min_per_agent=0,long=0")
	f.Add("weights=long:1e300")
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParseSamplePolicy(spec)
		if err != nil {
			return
		}
		back, err := ParseSamplePolicy(p.String())
		if err != nil || back != p {
			t.Fatalf("%q reads as %+v, which writes as %q, which reads as %+v, %v", spec, p, p, back, err)
		}
	})
}

// TestSampleAudit checks that the audit event holds what it takes to draw
// the same sample again.
func TestSampleAudit(t *testing.T) {
	calls := mixedCalls()
	p := SamplePolicy{Rate: 0.07, MinPerAgent: 3, Weights: StratumWeights{Long: 4}}
	const seed = 0xfeedface12345678
	picks := Sample(calls, nil, []int64{1, 2}, p, seed)
	ev := SampleAudit("system", "2026-Q4", p, seed, picks)
	if ev.Action != "qa.sample" || ev.Target != "2026-Q4" || ev.Actor != "system" || ev.Detail["picks"] != strconv.Itoa(len(picks)) {
		t.Errorf("event = %+v", ev)
	}
	sum := 0
	for k, v := range ev.Detail {
		if strings.HasPrefix(k, "picks_") {
			n, _ := strconv.Atoi(v)
			sum += n
		}
	}
	if sum != len(picks) || ev.Detail["picks_"+ReasonAgentMinimum] == "" {
		t.Errorf("picks by reason add up to %d of %d: %v", sum, len(picks), ev.Detail)
	}
	p2, err := ParseSamplePolicy(ev.Detail["policy"])
	if err != nil {
		t.Fatal(err)
	}
	seed2, err := strconv.ParseUint(ev.Detail["seed"], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if again := Sample(calls, nil, []int64{1, 2}, p2, seed2); !reflect.DeepEqual(again, picks) {
		t.Error("the policy and seed in the audit event draw another sample")
	}
}
