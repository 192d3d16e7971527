package calls

import (
	"math"

	"github.com/sambung/sambung/media"
)

// holdTune is the built-in music on hold: a slow, quiet arpeggio, so a
// waiting caller knows the line is alive (silence sounds like a dropped
// call). A deployer's own music replaces it (Config.HoldMusic).
//
// Notes are MIDI numbers, each an eighth of the loop's beat; 0 is a rest.
var holdTune = []int{60, 64, 67, 72, 67, 64, 0, 0, 57, 60, 64, 69, 64, 60, 0, 0,
	53, 57, 60, 65, 60, 57, 0, 0, 55, 59, 62, 67, 62, 59, 0, 0}

const (
	holdNote  = 0.32 // seconds per note
	holdLevel = -22  // dBFS of each note's peak: under speech, over line noise
)

// newHoldMusic renders holdTune once: each note a sine with its second
// harmonic, a soft attack and an exponential decay (a plucked sound, with
// no clicks at the joins).
func newHoldMusic() *media.Prompt {
	per := int(holdNote * media.Rate)
	out := make([]int16, per*len(holdTune))
	peak := math.Pow(10, holdLevel/20) * 32767
	for i, n := range holdTune {
		if n == 0 {
			continue
		}
		f := 440 * math.Pow(2, float64(n-69)/12)
		for k := range per {
			t := float64(k) / media.Rate
			env := math.Min(1, float64(k)/80) * math.Exp(-3.5*t)
			v := math.Sin(2*math.Pi*f*t) + 0.3*math.Sin(4*math.Pi*f*t)
			out[i*per+k] = int16(peak * env * v / 1.3)
		}
	}
	return media.NewPrompt(out)
}

// loop plays a prompt over and over.
type loop struct {
	p  *media.Prompt
	pl *media.PromptPlayer
}

func newLoop(p *media.Prompt) *loop { return &loop{p: p, pl: p.Player()} }

// ReadFrame never ends.
func (l *loop) ReadFrame(frame []int16) bool {
	if !l.pl.ReadFrame(frame) {
		l.pl = l.p.Player()
		return l.pl.ReadFrame(frame)
	}
	return true
}
