package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sambung/sambung/demo"
	"github.com/sambung/sambung/ivr"
)

// flows holds the lines and the runtime that answers them, and reloads the
// flow directory when it changes or on SIGHUP.
type flows struct {
	cfg    IVRConfig
	lines  *ivr.Lines
	speech *speech // the recognizers flows choose among (speech: in a flow)
	rt     *ivr.Runtime
	voice  *ivr.PromptVoice
	log    *slog.Logger
	stamp  string // of the flow directory as last loaded
}

// newFlows loads the configured flows, or the demo flow when there are none
// and demo is on. With neither, Lines stays empty and calls get the
// built-in announcement.
func newFlows(cfg Config, sp *speech, log *slog.Logger) (*flows, error) {
	fl := &flows{cfg: cfg.IVR, lines: &ivr.Lines{}, speech: sp, log: log}
	cache := &ivr.Cache{Dir: cfg.IVR.TTSCache}
	if cache.Dir == "" {
		cache.Dir = filepath.Join(cfg.DataDir, "tts")
	}
	if cfg.IVR.TTS == "espeak" {
		tts, err := ivr.NewEspeak(0)
		if err != nil {
			log.Warn("ivr: no TTS; text prompts are said from pre-rendered recordings only", "err", err)
		} else {
			cache.TTS = tts
		}
	}
	fl.voice = &ivr.PromptVoice{Cache: cache}
	fl.rt = &ivr.Runtime{Voice: fl.voice, Log: log, NotRecorded: !cfg.Recordings.Enabled}
	switch {
	case cfg.IVR.Flows != "":
		if cfg.IVR.Prompts != "" {
			fl.voice.Seed = os.DirFS(cfg.IVR.Prompts)
		}
		if err := fl.reload(); err != nil {
			return nil, fmt.Errorf("ivr.flows: %w", err)
		}
	case cfg.Demo:
		f, diags := demo.ParseFlow()
		if err := diags.Err(); err != nil {
			return nil, fmt.Errorf("the demo flow: %w", err)
		}
		fl.voice.Seed = demo.Prompts()
		if err := sp.Check(f); err != nil {
			return nil, fmt.Errorf("the demo flow: %w", err)
		}
		fl.lines.Set(nil, f)
		fl.prepare(f)
	}
	return fl, nil
}

// prepare renders a flow's fixed prompts in the background, so a missing
// voice shows in the log at load rather than on a call.
func (fl *flows) prepare(f *ivr.Flow) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := fl.voice.Prepare(ctx, f); err != nil {
			fl.log.Error("ivr: some prompts cannot be said", "flow", f.Name, "err", err)
		}
	}()
}

// reload loads the flow directory and, only if every file is fine, puts
// it in service: new calls get the new versions, calls in progress keep
// theirs.
func (fl *flows) reload() error {
	stamp := dirStamp(fl.cfg.Flows)
	byNumber, fallback, err := ivr.LoadDir(fl.cfg.Flows)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range byNumber {
		errs = append(errs, fl.speech.Check(f))
	}
	if fallback != nil {
		errs = append(errs, fl.speech.Check(fallback))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fl.lines.Set(byNumber, fallback)
	fl.stamp = stamp
	var versions []any
	for n, f := range byNumber {
		versions = append(versions, n, f.Hash[:12])
		fl.prepare(f)
	}
	if fallback != nil {
		versions = append(versions, ivr.DefaultLine, fallback.Hash[:12])
		fl.prepare(fallback)
	}
	fl.log.Info("ivr: flows loaded", append([]any{"dir", fl.cfg.Flows}, versions...)...)
	return nil
}

// watch reloads on SIGHUP and, every reload_interval, when a file in the
// flow directory changed. A broken file is logged with its diagnostics and
// the flows in service stay.
func (fl *flows) watch(ctx context.Context) {
	if fl.cfg.Flows == "" {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if fl.cfg.ReloadInterval > 0 {
		t := time.NewTicker(fl.cfg.ReloadInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-tick:
			if dirStamp(fl.cfg.Flows) == fl.stamp {
				continue
			}
		}
		if err := fl.reload(); err != nil {
			fl.log.Error("ivr: flows not reloaded; the ones in service stay", "err", err)
			fl.stamp = dirStamp(fl.cfg.Flows) // not again until the next change
		}
	}
}

// dirStamp summarises the names, sizes and times of the files under dir.
func dirStamp(dir string) string {
	var s string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			s += fmt.Sprintf("%s:%d:%d;", path, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "error:" + err.Error()
	}
	return s
}
