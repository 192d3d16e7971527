package ivr

import (
	"strings"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/asr/intent"
)

// The steps that wait for the caller: listen (keys and utterances, what
// counts as a failure to understand, the escalation counter), gather and
// survey.

// record counts one failure to understand the caller, in the context and
// on the timeline.
func (r *run) record(step, reason string) {
	r.consecutive++
	r.cx.Failures = append(r.cx.Failures, Failure{Step: step, Reason: reason, At: r.rt.now()})
	r.ch.Event("ivr.failure", map[string]any{"step": step, "reason": reason, "consecutive": r.consecutive})
}

// fail counts one failure to understand the caller. It returns the
// escalation step when the count has reached the flow's limit.
func (r *run) fail(step, reason string) string {
	r.record(step, reason)
	esc := r.root.Escalation
	if r.flow != r.root {
		esc = r.flow.Escalation
	}
	if esc.To != "" && r.consecutive >= esc.After {
		reasons := make([]string, 0, len(r.cx.Failures))
		for _, f := range r.cx.Failures {
			reasons = append(reasons, f.Reason)
		}
		r.ch.Event("ivr.escalated", map[string]any{"to": esc.To, "after": r.consecutive, "reasons": reasons})
		r.consecutive = 0
		return esc.To
	}
	return ""
}

func (r *run) listen(s *Step) (string, error) {
	l := s.Listen
	wait := cmp(l.Timeout, r.rt.ListenTimeout, 8*time.Second)
	minConf := l.MinConfidence
	if minConf == 0 {
		minConf = r.rt.MinConfidence
	}
	if minConf == 0 {
		minConf = 0.5
	}
	prompt := l.Prompt
	for attempt := 0; ; attempt++ {
		if err := r.prompt(prompt, true); err != nil {
			return "", err
		}
		in, got, err := r.next(wait)
		if err != nil {
			return "", err
		}
		reason, target := ReasonNoInput, ""
		switch {
		case !got:
		case in.Digit != 0:
			key := string(in.Digit)
			r.heard(s.Name, Heard{Text: "#" + key})
			if to, ok := l.Digits[key]; ok {
				target = to
			} else {
				reason = ReasonNoMatch
			}
		case askedLanguage(in.Speech.Text, r.flow.Languages) != "" &&
			askedLanguage(in.Speech.Text, r.flow.Languages) != r.cx.Language:
			// "English please": switch, and ask again in that language.
			r.heard(s.Name, Heard{Text: in.Speech.Text})
			r.switchLanguage(askedLanguage(in.Speech.Text, r.flow.Languages), "asked")
			attempt--
			prompt = l.Prompt
			continue
		default:
			res := r.understand(in.Speech)
			r.heard(s.Name, Heard{Text: in.Speech.Text, Intent: res.Intent, Confidence: res.Confidence, Language: res.Language,
				Raised: in.Speech.Voice != nil && in.Speech.Voice.Raised})
			r.takeSlots(s.Name, l.Slots, in.Speech.Text)
			to, handled := l.Intents[res.Intent]
			switch {
			case res.Intent == intent.Human:
				reason = ReasonAskedForPerson
				if handled {
					// The author sends people who ask straight there; it
					// still counts, for reporting and the next failure.
					r.record(s.Name, reason)
					return to, nil
				}
			case res.Intent == intent.None:
				reason = ReasonNone
			case res.Confidence < minConf:
				reason = ReasonLowConfidence
			case !handled:
				reason = ReasonNoMatch
			default:
				r.cx.Intent, r.cx.Confidence = res.Intent, res.Confidence
				target = to
			}
		}
		if target != "" {
			r.consecutive = 0
			return target, nil
		}
		if esc := r.fail(s.Name, reason); esc != "" {
			return esc, nil
		}
		if attempt < l.Retries {
			if l.Reprompt != nil {
				prompt = *l.Reprompt
			}
			continue
		}
		if reason == ReasonNoInput {
			return l.NoInput, nil
		}
		return l.NoMatch, nil
	}
}

// understand classifies an utterance and follows a change of language.
func (r *run) understand(res *asr.Result) intent.Result {
	out := r.flow.classifier().Classify(res.Text, r.cx.Language)
	lang := res.Language
	if lang == "" {
		lang = out.Language
	}
	if lang == "" {
		// The intents gave no clue: the text's own language, among the
		// flow's, when it is clear.
		if l, conf := intent.DetectLanguage(res.Text, r.flow.Languages); conf >= 0.6 {
			lang = l
		}
	}
	if lang != "" && lang != r.cx.Language && out.Intent != intent.None {
		r.switchLanguage(lang, "detected")
	}
	r.cx.Intent, r.cx.Confidence = out.Intent, out.Confidence
	return out
}

func (r *run) heard(step string, h Heard) {
	h.Step, h.At = step, r.rt.now()
	if h.Language == "" {
		h.Language = r.cx.Language
	}
	data := map[string]any{"step": step, "text": h.Text, "language": h.Language}
	if h.Intent != "" {
		data["intent"], data["confidence"] = h.Intent, h.Confidence
	}
	if !strings.HasPrefix(h.Text, "#") {
		sent := intent.SentimentOf(h.Text, h.Language)
		// Negative words in a raised voice count as angry too.
		h.Sentiment, h.Angry = sent.Score, sent.Angry || (h.Raised && sent.Score < intent.MoodNegative)
		wasTurning := r.cx.Mood.TurningNegative
		r.cx.Mood.Add(sent, h.Raised)
		data["sentiment"], data["angry"], data["voice_raised"] = sent.Score, h.Angry, h.Raised
		if r.cx.Mood.TurningNegative && !wasTurning {
			data["turning_negative"] = true
		}
	}
	r.cx.Heard = append(r.cx.Heard, h)
	r.ch.Event("ivr.heard", data)
}

// takeSlots puts values the caller said into the listen step's slot
// variables: an order number, an amount, a date.
func (r *run) takeSlots(step string, slots map[string]string, text string) {
	if len(slots) == 0 {
		return
	}
	got := intent.ExtractSlots(text, r.cx.Language, r.rt.now())
	set := map[string]any{}
	if v, ok := slots["digits"]; ok && got.Digits != "" {
		set[v] = got.Digits
	}
	if v, ok := slots["amount"]; ok && got.Amount != nil {
		if _, whole := r.vars[v].(int); whole {
			set[v] = int(got.Amount.Value)
		} else {
			set[v] = got.Amount.Value
		}
	}
	if v, ok := slots["date"]; ok && got.Date != nil {
		set[v] = got.Date.Format(time.DateOnly)
	}
	if len(set) == 0 {
		return
	}
	for k, v := range set {
		r.vars[k] = v
	}
	r.ch.Event("ivr.slots", map[string]any{"step": step, "set": set})
}

// Classify says which of f's intents text (said in lang) is, as a listen
// step would, for tools and benchmarks.
func (f *Flow) Classify(text, lang string) intent.Result {
	return f.classifier().Classify(text, lang)
}

// classifier trains the flow's intent classifier on first use.
func (f *Flow) classifier() *intent.Classifier {
	f.understandOnce.Do(func() {
		f.understand = intent.Train(f.ClassifierExamples(), intent.Options{})
	})
	return f.understand
}

func cmp(v, def, fallback time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	if def > 0 {
		return def
	}
	return fallback
}

func (r *run) gather(s *Step) (string, error) {
	g := s.Gather
	if err := r.prompt(g.Prompt, true); err != nil {
		return "", err
	}
	digits, err := r.digits(g.MaxDigits, g.Terminator,
		cmp(g.FirstDigitTimeout, r.rt.FirstDigitTimeout, 5*time.Second),
		cmp(g.InterDigitTimeout, r.rt.InterDigitTimeout, 3*time.Second))
	if err != nil {
		return "", err
	}
	r.ch.Event("ivr.gathered", map[string]any{"step": s.Name, "digits": digits, "into": g.Into})
	if digits == "" {
		if esc := r.fail(s.Name, ReasonNoInput); esc != "" {
			return esc, nil
		}
		if g.NoInput != "" {
			return g.NoInput, nil
		}
	} else {
		r.consecutive = 0
	}
	r.vars[g.Into] = digits
	return s.Next, nil
}

// digits collects keys until the terminator, max keys, or a timeout: first
// for the first key, between for the ones after. Speech is ignored.
func (r *run) digits(max int, term string, first, between time.Duration) (string, error) {
	var b strings.Builder
	wait := first
	for b.Len() < max {
		in, got, err := r.next(wait)
		if err != nil {
			return b.String(), err
		}
		if !got {
			break
		}
		if in.Digit == 0 {
			continue
		}
		if term != "" && string(in.Digit) == term {
			break
		}
		b.WriteRune(in.Digit)
		wait = between
	}
	return b.String(), nil
}

// survey asks for a score from 1 to 5, twice at most.
func (r *run) survey(s *Step) error {
	for range 2 {
		if err := r.prompt(s.Survey.Prompt, true); err != nil {
			return err
		}
		d, err := r.digits(1, "", 8*time.Second, 0)
		if err != nil {
			return err
		}
		if len(d) == 1 && d[0] >= '1' && d[0] <= '5' {
			score := int(d[0] - '0')
			r.vars[s.Survey.Into] = score
			if _, isFloat := r.flow.Variables[s.Survey.Into].Initial.(float64); isFloat {
				r.vars[s.Survey.Into] = float64(score)
			}
			r.ch.Event("ivr.survey", map[string]any{"step": s.Name, "score": score})
			return nil
		}
	}
	r.ch.Event("ivr.survey", map[string]any{"step": s.Name, "score": nil})
	return nil
}
