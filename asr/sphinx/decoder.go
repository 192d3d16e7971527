//go:build pocketsphinx

package sphinx

// The cgo side: one PocketSphinx 0.8 decoder (ps_decoder_t) and the few
// calls Sambung makes on it. A decoder is not safe for concurrent use; the
// Engine's pools hand each one to one Transcribe at a time.

/*
#cgo pkg-config: pocketsphinx
#include <stdio.h>
#include <stdlib.h>
#include <pocketsphinx.h>
#include <err.h>
#include <fsg_model.h>
#include <ngram_model.h>
#include <logmath.h>
#include <string.h>

// sb_quiet sends sphinxbase's log nowhere: it otherwise prints every
// configuration value and every utterance to stderr.
static void sb_quiet(void) { err_set_logfp(NULL); }

// sb_init parses argv (argv[0] is a program name, as in main) and makes a
// decoder; NULL if the arguments or the model are bad. ps_init keeps its
// own reference to the configuration.
static ps_decoder_t *sb_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// sb_add_fsg reads a finite-state grammar in PocketSphinx's text format
// from memory and adds it to the decoder as the search called name.
// Transition probabilities are scaled by the language weight (-lw), as
// when the grammar is read from a file.
static int sb_add_fsg(ps_decoder_t *ps, const char *name, char *text, size_t n) {
	FILE *f = fmemopen(text, n, "r");
	if (f == NULL) return -1;
	float32 lw = cmd_ln_float32_r(ps_get_config(ps), "-lw");
	fsg_model_t *fsg = fsg_model_read(f, ps_get_logmath(ps), lw);
	fclose(f);
	if (fsg == NULL) return -1;
	int rc = ps_set_fsg(ps, name, fsg);
	fsg_model_free(fsg); // ps_set_fsg keeps its own reference
	return rc;
}

// sb_decode decodes one utterance of 16 kHz PCM with the search called
// name and leaves its result in the decoder. It returns the number of
// frames decoded, or < 0. The whole utterance goes in one call (full_utt):
// the model normalises cepstral means over the utterance (-cmn batch).
// Each utterance is a stream of its own: the noise estimate a stream keeps
// (for -remove_noise) starts afresh, so a result does not depend on what
// the decoder heard before.
static int sb_decode(ps_decoder_t *ps, const char *name, const int16 *pcm, size_t n) {
	if (ps_set_search(ps, name) < 0) return -1;
	if (ps_start_stream(ps) < 0) return -1;
	if (ps_start_utt(ps) < 0) return -1;
	if (ps_process_raw(ps, pcm, n, FALSE, TRUE) < 0) { ps_end_utt(ps); return -1; }
	if (ps_end_utt(ps) < 0) return -1;
	return ps_get_n_frames(ps);
}

// sb_unexplained counts the frames of the best path's fillers (silence,
// noise) that speech[] marks as speech: n flags, one per frame. The first
// and last edge frames of each filler are not counted: where a word's sound
// fades, silence and speech overlap.
static int sb_unexplained(ps_decoder_t *ps, const unsigned char *speech, int n, int edge) {
	int count = 0;
	for (ps_seg_t *s = ps_seg_iter(ps); s != NULL; s = ps_seg_next(s)) {
		char const *w = ps_seg_word(s);
		if (w[0] != '<' && w[0] != '[' && w[0] != '+') continue;
		int sf, ef;
		ps_seg_frames(s, &sf, &ef);
		sf += edge;
		ef -= edge;
		for (int f = sf < 0 ? 0 : sf; f <= ef && f < n; f++) count += speech[f];
	}
	return count;
}

// sb_words writes the start and end frames and the names of the best
// path's words (fillers left out), at most max of them, and returns how
// many there are.
static int sb_words(ps_decoder_t *ps, char const **word, int *sf, int *ef, int max) {
	int n = 0;
	for (ps_seg_t *s = ps_seg_iter(ps); s != NULL; s = ps_seg_next(s)) {
		char const *w = ps_seg_word(s);
		if (w[0] == '<' || w[0] == '[' || w[0] == '+') continue;
		if (n < max) {
			word[n] = w;
			ps_seg_frames(s, &sf[n], &ef[n]);
		}
		n++;
	}
	return n;
}

// sb_unigrams reads the language model at path and writes, for each of
// the n words in words (separated by newlines, which it overwrites), the
// natural log of its unigram probability, or 1 if the model does not
// know the word. It returns -1 if the model does not load.
static int sb_unigrams(const char *path, char *words, int n, double *out) {
	logmath_t *lmath = logmath_init(1.0001, 0, 0);
	if (lmath == NULL) return -1;
	ngram_model_t *lm = ngram_model_read(NULL, path, NGRAM_AUTO, lmath);
	if (lm == NULL) { logmath_free(lmath); return -1; }
	int32 unk = ngram_unknown_wid(lm);
	char *w = words;
	for (int i = 0; i < n; i++) {
		char *end = strchr(w, '\n');
		if (end != NULL) *end = '\0';
		int32 wid = ngram_wid(lm, w);
		if (wid == unk) {
			out[i] = 1;
		} else {
			int32 used;
			out[i] = logmath_log_to_ln(lmath, ngram_ng_score(lm, wid, NULL, 0, &used));
		}
		if (end == NULL) break;
		w = end + 1;
	}
	ngram_model_free(lm);
	logmath_free(lmath);
	return 0;
}

*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

var quietOnce sync.Once

// decoder is one ps_decoder_t with one search: the phrases (a grammar,
// with the phone loop beside them), or the language model.
type decoder struct {
	ps   *C.ps_decoder_t
	name *C.char // the search's name
}

// lmSearch is the name PocketSphinx gives the search -lm sets up.
const lmSearch = "_default"

// decoding is what the search made of one utterance.
type decoding struct {
	Hyp    string // words of the best path, fillers left out
	Frames int    // 10 ms feature frames decoded
}

// newDecoder makes a decoder from command-line style arguments ("-hmm",
// dir, ...), adds words to its dictionary (in order: a word's alternative
// pronunciations after it), and sets its search: fsg, a finite-state
// grammar, or if empty the language model -lm in args.
func newDecoder(args []string, words []entry, fsg string) (*decoder, error) {
	quietOnce.Do(func() { C.sb_quiet() })
	argv := make([]*C.char, 0, len(args)+1)
	argv = append(argv, C.CString("sambung"))
	for _, a := range args {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	// The strings live in C memory; the slice holding them is Go memory
	// with no Go pointers in it, which C may read during the call.
	ps := C.sb_init(C.int(len(argv)), &argv[0])
	if ps == nil {
		return nil, fmt.Errorf("pocketsphinx: cannot start a decoder with %s (is the Debian package pocketsphinx-en-us installed?)", strings.Join(args, " "))
	}
	d := &decoder{ps: ps}
	if fsg == "" {
		d.name = C.CString(lmSearch)
	} else {
		d.name = C.CString("phrases")
	}
	if err := d.addWords(words); err != nil {
		d.free()
		return nil, err
	}
	if fsg != "" {
		if err := d.addGrammar(d.name, fsg); err != nil {
			d.free()
			return nil, err
		}
	}
	return d, nil
}

func (d *decoder) addWords(words []entry) error {
	for n, e := range words {
		cw, cp := C.CString(e.word), C.CString(e.phones)
		update := C.int(0)
		if n == len(words)-1 {
			update = 1 // rebuild the search's tables once, after the last
		}
		rc := C.ps_add_word(d.ps, cw, cp, update)
		C.free(unsafe.Pointer(cw))
		C.free(unsafe.Pointer(cp))
		if rc < 0 {
			return fmt.Errorf("pocketsphinx: cannot add word %q (%s) to the dictionary", e.word, e.phones)
		}
	}
	return nil
}

func (d *decoder) addGrammar(name *C.char, fsg string) error {
	g := C.CString(fsg)
	defer C.free(unsafe.Pointer(g))
	if C.sb_add_fsg(d.ps, name, g, C.size_t(len(fsg))) < 0 {
		return fmt.Errorf("pocketsphinx: grammar %s does not load", C.GoString(name))
	}
	return nil
}

// decode decodes pcm (16 kHz, 16-bit mono) as one utterance. pcm is Go
// memory passed for the duration of the call only: ps_process_raw copies
// what it keeps.
func (d *decoder) decode(pcm []int16) (decoding, error) {
	if len(pcm) == 0 {
		return decoding{}, nil
	}
	n := C.sb_decode(d.ps, d.name, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)))
	runtime.KeepAlive(pcm)
	if n < 0 {
		return decoding{}, errors.New("pocketsphinx: decoding failed")
	}
	var score C.int32
	out := decoding{Frames: int(n)}
	if h := C.ps_get_hyp(d.ps, &score); h != nil {
		out.Hyp = C.GoString(h)
	}
	return out, nil
}

// fillerEdge is how many frames at each end of a filler unexplained does
// not count (see sb_unexplained).
const fillerEdge = 3

// unexplained returns how many frames of the last decoding's best path
// are silence or noise where speech[f] is 1: speech the words left out.
func (d *decoder) unexplained(speech []uint8) int {
	if len(speech) == 0 {
		return 0
	}
	n := C.sb_unexplained(d.ps, (*C.uchar)(unsafe.Pointer(&speech[0])), C.int(len(speech)), fillerEdge)
	runtime.KeepAlive(speech)
	return int(n)
}

// maxWords is how many of a path's words words reports.
const maxWords = 64

// A timing is the frames the words of a path span.
type timing struct {
	word   [maxWords]*C.char
	sf, ef [maxWords]C.int
	n      int
}

// words fills t with the last decoding's best path, fillers left out. The
// names stay valid until the next decoding.
func (d *decoder) words(t *timing) {
	t.n = min(int(C.sb_words(d.ps, &t.word[0], &t.sf[0], &t.ef[0], maxWords)), maxWords)
}

// name is word i of t, valid until the next decoding: for a map lookup.
func (t *timing) name(i int) string {
	p := t.word[i]
	return unsafe.String((*byte)(unsafe.Pointer(p)), int(C.strlen(p)))
}

// unigrams returns the natural log of each word's unigram probability in
// the language model at path, or 1 for a word the model does not know.
func unigrams(path string, words []string) ([]float64, error) {
	if len(words) == 0 {
		return nil, nil
	}
	quietOnce.Do(func() { C.sb_quiet() })
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	cw := C.CString(strings.Join(words, "\n"))
	defer C.free(unsafe.Pointer(cw))
	out := make([]float64, len(words))
	if C.sb_unigrams(cp, cw, C.int(len(words)), (*C.double)(unsafe.Pointer(&out[0]))) < 0 {
		return nil, fmt.Errorf("pocketsphinx: cannot read the language model %s", path)
	}
	return out, nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
	C.free(unsafe.Pointer(d.name))
	d.name = nil
}
