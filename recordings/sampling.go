package recordings

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sambung/sambung/store"
)

// Sampling fills the QA review queue: each quarter, a share of the calls of
// every queue and language, drawn so that angry, poorly rated and long calls
// are over-represented, topped up so that every agent gets reviewed, and
// shared out among the QA staff. Sample is pure: the caller loads the calls,
// stores the picks and records SampleAudit's event, which holds all it takes
// to draw the same sample again.

// Why a call was picked (Pick.Reason).
const (
	ReasonAngry        = "angry"         // the caller was angry
	ReasonLowCSAT      = "low_csat"      // the caller rated the call 1 or 2
	ReasonLong         = "long"          // the call lasted SamplePolicy.LongCall or more
	ReasonRandom       = "random"        // drawn with no stratum over-represented
	ReasonAgentMinimum = "agent_minimum" // added to reach SamplePolicy.MinPerAgent
)

// The defaults of a SamplePolicy's zero fields.
const (
	DefaultSampleRate    = 0.05
	DefaultMinPerAgent   = 2
	DefaultMinDuration   = 60 * time.Second
	DefaultLongCall      = 10 * time.Minute
	DefaultAngryWeight   = 3
	DefaultLowCSATWeight = 3
	DefaultLongWeight    = 2
)

// SamplePolicy says which calls Sample picks for review. A zero field
// means its default; for Rate, MinPerAgent, MinDuration and LongCall a
// negative value turns the rule off.
type SamplePolicy struct {
	// Rate is the share of eligible calls picked in each group of a
	// queue, language and quarter, rounded up: 0.05 (5%) by default, at
	// most 1. Off, only the agents' minimums are picked.
	Rate float64
	// MinPerAgent is how many calls each agent gets reviewed per quarter
	// at least, as long as they have that many eligible: 2 by default.
	MinPerAgent int
	// MinDuration leaves out shorter calls: 60 s by default.
	MinDuration time.Duration
	// Weights over-represent strata of calls.
	Weights StratumWeights
	// LongCall is how long a call must last to be in the long stratum:
	// 10 min by default. Off, no call is.
	LongCall time.Duration
}

// StratumWeights is how many times likelier a call of each stratum is
// picked than a call of none. A call in several strata counts with the
// largest weight. Zero means the default (3, 3 and 2); a weight below 1
// counts as 1, so that no stratum is ever under-represented.
type StratumWeights struct {
	Angry   float64 // the caller was angry
	LowCSAT float64 // rated 1 or 2 (a call never rated is not)
	Long    float64 // lasted SamplePolicy.LongCall or more
}

// withDefaults fills in p's zero fields and clamps the others into range.
// Negative Rate, MinPerAgent, MinDuration and LongCall stay negative: the
// rules that use them read a negative value as off.
func (p SamplePolicy) withDefaults() SamplePolicy {
	if p.Rate == 0 || math.IsNaN(p.Rate) {
		p.Rate = DefaultSampleRate
	}
	p.Rate = min(p.Rate, 1)
	if p.MinPerAgent == 0 {
		p.MinPerAgent = DefaultMinPerAgent
	}
	if p.MinDuration == 0 {
		p.MinDuration = DefaultMinDuration
	}
	if p.LongCall == 0 {
		p.LongCall = DefaultLongCall
	}
	weight := func(w, def float64) float64 {
		if w == 0 {
			return def
		}
		if !(w >= 1) { // NaN too
			return 1
		}
		return w
	}
	p.Weights.Angry = weight(p.Weights.Angry, DefaultAngryWeight)
	p.Weights.LowCSAT = weight(p.Weights.LowCSAT, DefaultLowCSATWeight)
	p.Weights.Long = weight(p.Weights.Long, DefaultLongWeight)
	return p
}

// eligible reports whether c may be picked: ended, long enough, never
// evaluated, and handled by an agent.
func (p SamplePolicy) eligible(c *store.Call, evaluated map[string]bool) bool {
	return c.Duration > 0 && c.Duration >= p.MinDuration && !evaluated[c.ID] &&
		(c.AgentID != 0 || c.Resolution == store.ResolutionAgent)
}

// stratum is the stratum c is drawn in and its weight: of those c is in,
// the one with the largest weight (the first of angry, low CSAT and long
// on a tie), or ReasonRandom with weight 1 if none weighs more than 1.
func (p SamplePolicy) stratum(c *store.Call) (string, float64) {
	reason, weight := ReasonRandom, 1.0
	consider := func(in bool, r string, w float64) {
		if in && w > weight {
			reason, weight = r, w
		}
	}
	consider(c.Angry, ReasonAngry, p.Weights.Angry)
	consider(c.CSAT >= 1 && c.CSAT <= 2, ReasonLowCSAT, p.Weights.LowCSAT)
	consider(p.LongCall > 0 && c.Duration >= p.LongCall, ReasonLong, p.Weights.Long)
	return reason, weight
}

// Pick is a call picked for review.
type Pick struct {
	CallID string
	// Reason is why: the stratum it was drawn in (ReasonAngry,
	// ReasonLowCSAT, ReasonLong or ReasonRandom) or ReasonAgentMinimum.
	Reason string
	// AssigneeID is the QA user who reviews it; 0 if no one can.
	AssigneeID int64
	// Period is the quarter the call was sampled in: Period(StartedAt).
	Period string
}

// Period names the quarter t falls in, such as "2026-Q4". Quarters are
// taken in UTC, so that every node, and every store whatever zone its
// times come back in, agrees on them.
func Period(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%04d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
}

// candidate is an eligible call in the draw.
type candidate struct {
	call   *store.Call
	reason string  // its stratum
	ticket float64 // larger draws first
}

// Sample picks calls for review under p, from calls (a repeated call id
// counts once) less those evaluated, by id, and shares them out among
// reviewers (user ids). It returns the picks sorted by call id.
//
// A call is eligible if it has ended, lasted p.MinDuration or more, was
// never evaluated, and an agent handled it (AgentID set, or resolved by an
// agent). Eligible calls are grouped by queue, language and quarter (the
// Period of StartedAt); in each group, the share p.Rate, rounded up, is
// drawn without replacement, each call with the weight of its stratum.
// Then each agent short of p.MinPerAgent picks in a quarter gets more of
// their eligible calls, drawn the same way, as far as they have them.
//
// The picks are shared out round-robin, in call id order, among the
// reviewers sorted by id; the one with fewest picks so far takes the next,
// except that no one reviews a call of their own: a call whose agent is the
// only reviewer is left unassigned (AssigneeID 0), as is every call when
// there are no reviewers.
//
// The sample is reproducible: the same calls, evaluated set, policy and
// seed give the same picks, whatever the order of calls. Each call's draw
// depends only on seed and its id (a PCG seeded with seed and the id's
// hash), so running Sample again over more calls of the same quarter keeps
// most of the earlier picks.
func Sample(calls []store.Call, evaluated map[string]bool, reviewers []int64, p SamplePolicy, seed uint64) []Pick {
	p = p.withDefaults()
	sorted := slices.Clone(calls)
	slices.SortStableFunc(sorted, func(a, b store.Call) int { return strings.Compare(a.ID, b.ID) })

	type groupKey struct{ period, queue, language string }
	type agentKey struct {
		period string
		agent  int64
	}
	groups := map[groupKey][]*candidate{}
	agents := map[agentKey][]*candidate{}
	for i := range sorted {
		c := &sorted[i]
		if i > 0 && c.ID == sorted[i-1].ID || !p.eligible(c, evaluated) {
			continue
		}
		reason, weight := p.stratum(c)
		cd := &candidate{call: c, reason: reason, ticket: ticket(seed, c.ID, weight)}
		period := Period(c.StartedAt)
		gk := groupKey{period, c.Queue, c.Language}
		groups[gk] = append(groups[gk], cd)
		if c.AgentID != 0 {
			ak := agentKey{period, c.AgentID}
			agents[ak] = append(agents[ak], cd)
		}
	}

	// Groups, and agents in a quarter, are disjoint, and each draw depends
	// on its own candidates only: the order of the maps does not matter.
	picked := map[string]string{} // call id -> reason
	for _, g := range groups {
		byTicket(g)
		// Less a hair, so that a product such as 0.07*100, which is
		// 7.000000000000001 in floating point, does not round up to 8.
		n := int(math.Ceil(p.Rate*float64(len(g)) - 1e-9))
		for _, cd := range g[:min(max(n, 0), len(g))] {
			picked[cd.call.ID] = cd.reason
		}
	}
	for _, a := range agents {
		byTicket(a)
		have := 0
		for _, cd := range a {
			if _, ok := picked[cd.call.ID]; ok {
				have++
			}
		}
		for _, cd := range a {
			if have >= p.MinPerAgent {
				break
			}
			if _, ok := picked[cd.call.ID]; !ok {
				picked[cd.call.ID] = ReasonAgentMinimum
				have++
			}
		}
	}

	picks := make([]Pick, 0, len(picked))
	agentOf := map[string]int64{}
	for i := range sorted {
		c := &sorted[i]
		if reason, ok := picked[c.ID]; ok && (len(picks) == 0 || picks[len(picks)-1].CallID != c.ID) {
			picks = append(picks, Pick{CallID: c.ID, Reason: reason, Period: Period(c.StartedAt)})
			agentOf[c.ID] = c.AgentID
		}
	}
	assign(picks, agentOf, reviewers)
	return picks
}

// ticket is a call's draw in weighted sampling without replacement
// (Efraimidis and Spirakis, 2006): ln(u)/weight for u uniform in (0, 1].
// Taking the n largest tickets draws n calls one after the other, each
// with a probability proportional to its weight among those left.
func ticket(seed uint64, id string, weight float64) float64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := rand.NewPCG(seed, h.Sum64()).Uint64()
	u := float64(x>>11+1) / (1 << 53) // 53 random bits, in (0, 1]
	return math.Log(u) / weight
}

// byTicket sorts candidates in the order they are drawn.
func byTicket(cds []*candidate) {
	slices.SortFunc(cds, func(a, b *candidate) int {
		if c := cmp.Compare(b.ticket, a.ticket); c != 0 {
			return c
		}
		return strings.Compare(a.call.ID, b.call.ID)
	})
}

// assign shares picks out among reviewers, as Sample says.
func assign(picks []Pick, agentOf map[string]int64, reviewers []int64) {
	rs := slices.Compact(slices.Sorted(slices.Values(reviewers)))
	rs = slices.DeleteFunc(rs, func(id int64) bool { return id <= 0 })
	load := make([]int, len(rs))
	for i := range picks {
		best := -1
		for j, r := range rs {
			if r != agentOf[picks[i].CallID] && (best < 0 || load[j] < load[best]) {
				best = j
			}
		}
		if best >= 0 {
			picks[i].AssigneeID = rs[best]
			load[best]++
		}
	}
}

// SampleAudit is the audit event of one run of Sample by actor over
// period: its target is the period, and its detail holds what it takes to
// draw the same sample again (the policy, in ParseSamplePolicy's syntax,
// and the seed) and how many calls it picked, in all and for each reason.
func SampleAudit(actor, period string, p SamplePolicy, seed uint64, picks []Pick) store.AuditEvent {
	detail := map[string]string{
		"policy": p.String(),
		"seed":   strconv.FormatUint(seed, 10),
		"picks":  strconv.Itoa(len(picks)),
	}
	counts := map[string]int{}
	for _, pk := range picks {
		counts[pk.Reason]++
	}
	for reason, n := range counts {
		detail["picks_"+reason] = strconv.Itoa(n)
	}
	return store.AuditEvent{Actor: actor, Action: "qa.sample", Target: period, Outcome: "ok", Detail: detail}
}

// String writes p, defaults filled in, in ParseSamplePolicy's syntax, every
// key set: ParseSamplePolicy reads it back as the same policy.
func (p SamplePolicy) String() string {
	p = p.withDefaults()
	dur := func(d time.Duration) string { return max(d, 0).String() }
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	rate := "0%"
	if pct := p.Rate * 100; p.Rate > 0 && pct/100 == p.Rate {
		rate = num(pct) + "%"
	} else if p.Rate > 0 {
		rate = num(p.Rate) // a fraction that a percentage would not give back exactly
	}
	return fmt.Sprintf("rate=%s,min_per_agent=%d,min_duration=%s,long=%s,weights=angry:%s;low_csat:%s;long:%s",
		rate, max(p.MinPerAgent, 0), dur(p.MinDuration), dur(p.LongCall),
		num(p.Weights.Angry), num(p.Weights.LowCSAT), num(p.Weights.Long))
}

// ParseSamplePolicy reads a sampling policy written on one line of the
// configuration, as comma-separated key=value parts in any order, such as
//
//	rate=5%,min_per_agent=2,min_duration=60s,long=10m,weights=angry:3;low_csat:3;long:2
//
// which is the default policy. The keys:
//
//   - rate: the share of eligible calls picked per queue, language and
//     quarter, as a percentage (5%) or a fraction (0.05), at most 100%;
//     0 picks only the agents' minimums.
//   - min_per_agent: calls reviewed per agent and quarter at least; 0 for none.
//   - min_duration: shorter calls are never picked, as a Go duration (60s,
//     1m30s); 0 for none.
//   - long: calls at least this long are in the long stratum; 0 for none.
//   - weights: stratum:weight pairs separated by ';' (angry, low_csat,
//     long), each at least 1: how many times likelier than other calls.
//
// A key left out, or a stratum left out of weights, keeps its default; an
// empty spec is the default policy. Errors quote the part at fault.
func ParseSamplePolicy(spec string) (SamplePolicy, error) {
	p := SamplePolicy{}.withDefaults()
	seen := map[string]string{}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok {
			return SamplePolicy{}, fmt.Errorf("sample policy: %q: want key=value, such as rate=5%%", part)
		}
		if first, dup := seen[key]; dup {
			return SamplePolicy{}, fmt.Errorf("sample policy: %q: %s is already set by %q", part, key, first)
		}
		seen[key] = part
		var err error
		switch key {
		case "rate":
			p.Rate, err = parseRate(value)
		case "min_per_agent":
			p.MinPerAgent, err = strconv.Atoi(value)
			if err != nil || p.MinPerAgent < 0 {
				err = fmt.Errorf("%q is not a whole number of calls, 0 or more", value)
			} else if p.MinPerAgent == 0 {
				p.MinPerAgent = -1
			}
		case "min_duration":
			p.MinDuration, err = parseOptionalDuration(value)
		case "long":
			p.LongCall, err = parseOptionalDuration(value)
		case "weights":
			err = parseWeights(value, &p.Weights)
		default:
			err = fmt.Errorf("unknown key %q: the keys are rate, min_per_agent, min_duration, long and weights", key)
		}
		if err != nil {
			return SamplePolicy{}, fmt.Errorf("sample policy: %q: %w", part, err)
		}
	}
	return p, nil
}

// parseRate reads "5%" or "0.05"; 0 turns the rate off (-1).
func parseRate(s string) (float64, error) {
	num, pct := strings.CutSuffix(s, "%")
	r, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if pct {
		r /= 100
	}
	if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
		return 0, fmt.Errorf("rate %q: give a percentage from 0%% to 100%% (5%%) or a fraction from 0 to 1 (0.05)", s)
	}
	if r == 0 {
		return -1, nil
	}
	return r, nil
}

// parseOptionalDuration reads a duration of 0 or more; 0 turns its rule
// off (-1).
func parseOptionalDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration of 0 or more, such as 60s or 10m", s)
	}
	if d == 0 {
		return -1, nil
	}
	return d, nil
}

// parseWeights reads "angry:3;low_csat:3;long:2" into w, each stratum
// optional.
func parseWeights(s string, w *StratumWeights) error {
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(s, ";") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, value, ok := strings.Cut(pair, ":")
		name = strings.TrimSpace(name)
		if !ok {
			return fmt.Errorf("weight %q: want stratum:weight, such as angry:3", pair)
		}
		if seen[name] {
			return fmt.Errorf("weight %q: %s is given twice", pair, name)
		}
		seen[name] = true
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || !(f >= 1) || math.IsInf(f, 0) {
			return fmt.Errorf("weight %q: %q is not a number of 1 or more", pair, value)
		}
		switch name {
		case "angry":
			w.Angry = f
		case "low_csat":
			w.LowCSAT = f
		case "long":
			w.Long = f
		default:
			return fmt.Errorf("weight %q: unknown stratum %q: the strata are angry, low_csat and long", pair, name)
		}
	}
	if len(seen) == 0 {
		return errors.New("no weights: give stratum:weight pairs separated by ';', such as angry:3;long:2")
	}
	return nil
}
