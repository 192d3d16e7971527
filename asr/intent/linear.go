package intent

import "math"

// Training of the linear model: full-batch gradient descent, so that the
// model does not depend on the order of the examples and two intents with
// the same example tie on it exactly (see Train).
const (
	trainSteps = 50
	trainRate  = 0.5
	trainL2    = 1e-4
)

// train fits a multinomial logistic regression (a softmax over intents) to
// the examples' vectors, vecs (by example: its features and their weights,
// in posting.example and posting.weight), and returns its weights by
// feature, then intent. It has no bias, so an utterance with no known
// feature scores 0 for every intent, and an intent with more examples is
// not favoured for text that matches none.
func train(vecs [][]posting, ex []example, features, intents int) []float32 {
	w := make([]float64, features*intents)
	grad := make([]float64, len(w))
	p := make([]float64, intents)
	for range trainSteps {
		clear(grad)
		for d, v := range vecs {
			clear(p)
			for _, f := range v {
				row := w[int(f.example)*intents:][:intents]
				for n, x := range row {
					p[n] += float64(f.weight) * x
				}
			}
			top := math.Inf(-1)
			for _, z := range p {
				top = max(top, z)
			}
			var sum float64
			for n, z := range p {
				p[n] = math.Exp(z - top)
				sum += p[n]
			}
			for n := range p {
				p[n] /= sum
			}
			p[ex[d].intent]--
			for _, f := range v {
				row := grad[int(f.example)*intents:][:intents]
				for n, g := range p {
					row[n] += g * float64(f.weight)
				}
			}
		}
		for j, g := range grad {
			w[j] -= trainRate * (g + trainL2*w[j])
		}
	}
	out := make([]float32, len(w))
	for i, x := range w {
		out[i] = float32(x)
	}
	return out
}
