package calls

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sambung/sambung/asr"
	"github.com/sambung/sambung/asr/intent"
	"github.com/sambung/sambung/media"
)

// Live transcripts. While an agent is on a call and TranscriptConfig.
// AgentCalls is on, the recognizer for the call's language hears both
// sides: the caller's audio, and the agent's voice as it leaves their leg,
// before any barging supervisor is mixed in. Each utterance goes on the
// call's timeline as a "transcript" event, which the supervisors' pages
// get live (as every timeline entry) and QA reads later:
//
//	{"speaker": "caller"|"agent", "text", "language", "confidence",
//	 "start", "end" (when it was said, UTC), "engine",
//	 caller only: "sentiment", "angry", "turning_negative"}
//
// The caller's lines carry on the mood the IVR began: an angry line or a
// turn for the worse raises the same alerts as in the IVR, and the floor
// shows the mood as it is now. Recognition never holds up the call: the
// agent's voice reaches it through a bounded channel (a frame that does
// not fit is dropped and counted), the caller's through a session
// subscription.

// TranscriptConfig configures live transcripts (DeskConfig.Transcripts).
type TranscriptConfig struct {
	// AgentCalls runs the recognizer on both sides of every call with an
	// agent. Off by default: it costs two recognition streams per call.
	AgentCalls bool
	// Phrases are what an engine that listens for phrases (PocketSphinx's
	// grammar) may hear, beside the flow's own: what agents and callers
	// commonly say. Engines that transcribe anything ignore them.
	Phrases []string
}

// transcriptBuffer is how many 20 ms frames of the agent's voice may wait
// for the recognizer: 1 s.
const transcriptBuffer = 50

// transcriptState is a call's live transcript and the caller's mood over
// the whole call; part of Call.
type transcriptState struct {
	transcript atomic.Pointer[transcript]

	moodMu sync.Mutex
	mood   intent.Mood
	trend  []float64
	// liveMood is the caller's mood once the transcript has added to what
	// the IVR handed on; nil before.
	liveMood atomic.Pointer[ContactSentiment]
}

// transcript is the recognition of one agent's part of a call.
type transcript struct {
	agent   chan media.Frame // the agent's voice, frame by frame
	stop    chan struct{}    // closed to end both streams
	once    sync.Once
	dropped atomic.Int64
}

// agentSaid hands the transcript one frame of the agent's voice; it never
// blocks.
func (t *transcript) agentSaid(f []int16) {
	var fr media.Frame
	copy(fr[:], f)
	select {
	case t.agent <- fr:
	default:
		t.dropped.Add(1)
	}
}

// startTranscript begins the live transcript of the agent's part of the
// call, if configured and a recognizer hears the call's language.
func (c *Call) startTranscript() {
	d := c.sb.desk
	if d == nil || !d.cfg.Transcripts.AgentCalls || c.sb.cfg.Recognizer == nil || c.transcript.Load() != nil {
		return
	}
	lang := c.language()
	rec := c.sb.cfg.Recognizer(c.flowSpeech(lang), lang)
	if rec == nil {
		c.event("transcript.unavailable", map[string]any{"language": lang, "error": "no recognizer for the language"})
		return
	}
	opts := asr.Options{Language: lang, Phrases: c.transcriptPhrases(lang)}
	callerSt, err := rec.Stream(c.ctx, opts)
	var agentSt asr.Stream
	if err == nil {
		if agentSt, err = rec.Stream(c.ctx, opts); err != nil {
			_ = callerSt.Close()
		}
	}
	if err != nil {
		c.log.Warn("calls: no live transcript", "engine", rec.Name(), "language", lang, "err", err)
		c.event("transcript.unavailable", map[string]any{"engine": rec.Name(), "language": lang, "error": err.Error()})
		return
	}
	c.seedMood()
	t := &transcript{agent: make(chan media.Frame, transcriptBuffer), stop: make(chan struct{})}
	c.transcript.Store(t)
	began := time.Now()
	c.event("transcript.started", map[string]any{"engine": rec.Name(), "language": lang})

	sub := c.sess.Subscribe(transcriptBuffer)
	c.goWatch(func() {
		defer func() {
			sub.Unsubscribe()
			_ = callerSt.Close()
		}()
		frame := make([]int16, media.FrameSamples)
		for {
			select {
			case <-t.stop:
				return
			case <-c.ctx.Done():
				return
			case tk, ok := <-sub.C():
				if !ok {
					return
				}
				if c.paused() {
					clear(frame) // card details are transcribed by nobody
				} else {
					copy(frame, tk.In[:])
					c.prosMu.Lock()
					c.prosody.Push(frame)
					c.prosMu.Unlock()
				}
				if callerSt.Write(frame) != nil {
					return
				}
			}
		}
	})
	c.goWatch(func() {
		defer func() { _ = agentSt.Close() }()
		for {
			select {
			case <-t.stop:
				return
			case <-c.ctx.Done():
				return
			case fr := <-t.agent:
				if c.paused() {
					clear(fr[:]) // the agent may read the card details back
				}
				if agentSt.Write(fr[:]) != nil {
					return
				}
			}
		}
	})
	c.goWatch(func() { c.transcribe("caller", rec.Name(), began, callerSt.Results()) })
	c.goWatch(func() { c.transcribe("agent", rec.Name(), began, agentSt.Results()) })
}

// stopTranscript ends the live transcript: both streams are closed, so an
// utterance under way is still transcribed.
func (c *Call) stopTranscript() {
	t := c.transcript.Swap(nil)
	if t == nil {
		return
	}
	t.once.Do(func() { close(t.stop) })
	if n := t.dropped.Load(); n > 0 {
		c.log.Warn("calls: the live transcript fell behind the agent's voice", "dropped_frames", n)
	}
}

// flowSpeech is the recognizer the call's flow chose for lang, or "".
func (c *Call) flowSpeech(lang string) string {
	if c.sb.cfg.Lines != nil {
		if f := c.sb.cfg.Lines.For(c.leg.To()); f != nil {
			return f.Speech.For(lang)
		}
	}
	return ""
}

// transcriptPhrases are what a grammar engine listens for in the call's
// transcript: the flow's phrases and the configured ones.
func (c *Call) transcriptPhrases(lang string) []string {
	var out []string
	if c.sb.cfg.Lines != nil {
		if f := c.sb.cfg.Lines.For(c.leg.To()); f != nil {
			out = append(out, f.Phrases(lang)...)
		}
	}
	out = append(out, c.sb.desk.cfg.Transcripts.Phrases...)
	slices.Sort(out)
	return slices.Compact(out)
}

// transcribe puts each final result of one side on the timeline.
func (c *Call) transcribe(speaker, engine string, began time.Time, results <-chan asr.Result) {
	missed := 0
	defer func() {
		if missed > 0 {
			c.log.Warn("calls: the live transcript missed utterances: the engine failed on them", "speaker", speaker, "missed", missed)
		}
	}()
	for r := range results {
		if !r.Final || r.Text == "" {
			if r.Final && r.Err != nil {
				if missed == 0 {
					c.log.Warn("calls: the live transcript missed an utterance", "speaker", speaker, "err", r.Err)
				}
				missed++
			}
			continue
		}
		lang := r.Language
		if lang == "" {
			lang = c.language()
		}
		data := map[string]any{"speaker": speaker, "text": r.Text, "language": lang, "confidence": r.Confidence,
			"start": began.Add(r.Start).UTC(), "end": began.Add(r.End).UTC(), "engine": engine}
		if speaker == "caller" {
			c.prosMu.Lock()
			cue := c.prosody.Utterance()
			c.prosMu.Unlock()
			c.feel(data, intent.SentimentOf(r.Text, lang), cue.Raised)
		}
		c.event("transcript", data)
	}
}

// seedMood starts the call's mood from what the IVR handed on, once.
func (c *Call) seedMood() {
	c.moodMu.Lock()
	defer c.moodMu.Unlock()
	if c.mood.Utterances > 0 {
		return
	}
	p := c.contact.Load()
	if p == nil {
		return
	}
	for _, s := range p.Sentiment.Trend {
		c.mood.Add(intent.Sentiment{Score: s}, false)
	}
	if p.Sentiment.Angry && c.mood.Angry == 0 {
		c.mood.Angry = 1
	}
	c.trend = slices.Clone(p.Sentiment.Trend)
}

// feel adds one caller utterance to the call's mood and says on data how
// it sounded, as the IVR does for what it hears.
func (c *Call) feel(data map[string]any, s intent.Sentiment, raised bool) {
	angry := s.Angry || (raised && s.Score < intent.MoodNegative)
	c.moodMu.Lock()
	was := c.mood.TurningNegative
	c.mood.Add(s, raised)
	c.trend = append(c.trend, s.Score)
	m := ContactSentiment{Score: c.mood.Score, Angry: c.mood.Angry > 0, Trend: slices.Clone(c.trend)}
	turning := c.mood.TurningNegative && !was
	c.moodMu.Unlock()
	c.liveMood.Store(&m)
	data["sentiment"], data["angry"], data["voice_raised"], data["turning_negative"] = s.Score, angry, raised, turning
}

// sentiment is the caller's mood now: the transcript's, or the IVR's.
func (c *Call) sentiment() ContactSentiment {
	if m := c.liveMood.Load(); m != nil {
		return *m
	}
	if p := c.contact.Load(); p != nil {
		return p.Sentiment
	}
	return ContactSentiment{}
}

// feedTranscript gives the live transcript, if any, the agent's frame.
func (c *Call) feedTranscript(f []int16) {
	if t := c.transcript.Load(); t != nil {
		t.agentSaid(f)
	}
}
