package main

import (
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strings"
)

// configFlags records config keys given on the command line. Values are kept
// as text and applied after the file and environment, so flags win.
type configFlags struct {
	path string // --config
	set  []flagSetting
}

type flagSetting struct {
	flag string
	key  key
	text string
}

// aliases are short flags for the keys people type most.
var aliases = map[string]string{
	"db":       "database.url",
	"data-dir": "data_dir",
	"listen":   "web.listen",
}

// keyFlag implements flag.Value for one key.
type keyFlag struct {
	cf   *configFlags
	name string
	k    key
}

func (f *keyFlag) String() string { return "" }
func (f *keyFlag) Set(s string) error {
	// Check the text now so the error names the flag; apply it later.
	probe := reflect.New(f.k.typ).Elem()
	if err := setText(probe, s, f.k.oneof); err != nil {
		return err
	}
	f.cf.set = append(f.cf.set, flagSetting{flag: f.name, key: f.k, text: s})
	return nil
}

// boolKeyFlag lets `--demo` stand for `--demo=true`.
type boolKeyFlag struct{ keyFlag }

func (f *boolKeyFlag) IsBoolFlag() bool { return true }

// bindConfigFlags registers --config, one flag per key, and the aliases.
func bindConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{}
	fs.StringVar(&cf.path, "config", "", "YAML config `file` (also SAMBUNG_CONFIG); without one, the demo set-up runs")
	byPath := map[string]key{}
	for _, k := range keys() {
		byPath[k.path] = k
		register(fs, cf, k.path, k, fmt.Sprintf("%s (env %s)", k.help, k.envName()))
	}
	for alias, path := range aliases {
		register(fs, cf, alias, byPath[path], "same as --"+path)
	}
	return cf
}

func register(fs *flag.FlagSet, cf *configFlags, name string, k key, usage string) {
	kf := keyFlag{cf: cf, name: name, k: k}
	if k.typ.Kind() == reflect.Bool {
		fs.Var(&boolKeyFlag{kf}, name, usage)
		return
	}
	fs.Var(&kf, name, usage)
}

// resolveConfig builds the effective configuration: defaults, then the file
// (from --config or SAMBUNG_CONFIG), then environment, then flags. warnings
// lists SAMBUNG_ variables that matched no key.
func resolveConfig(cf *configFlags, environ []string) (cfg Config, warnings []string, err error) {
	cfg = defaultConfig()
	path := cf.path
	if path == "" {
		path = envLookup(environ, "SAMBUNG_CONFIG")
	}
	if path != "" {
		// A deployment with its own file does not get demo users unless it
		// asks for them.
		cfg.Demo = false
		if err := loadFile(&cfg, path); err != nil {
			return cfg, nil, err
		}
	}
	unknown, err := applyEnv(&cfg, environ)
	if err != nil {
		return cfg, nil, err
	}
	for _, u := range unknown {
		warnings = append(warnings, fmt.Sprintf("environment variable %s sets no config key (see sambung config --keys)", u))
	}
	root := reflect.ValueOf(&cfg).Elem()
	for _, s := range cf.set {
		if err := setText(root.FieldByIndex(s.key.field), s.text, s.key.oneof); err != nil {
			return cfg, nil, fmt.Errorf("flag --%s: %w", s.flag, err)
		}
	}
	if err := cfg.validate(); err != nil {
		src := "configuration"
		if path != "" {
			src = path
		}
		return cfg, nil, fmt.Errorf("%s: %w", src, indentJoined(err))
	}
	return cfg, warnings, nil
}

// indentJoined puts each of several joined errors on its own line.
func indentJoined(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, "\n") {
		return err
	}
	return errors.New("\n  " + strings.ReplaceAll(msg, "\n", "\n  "))
}

func envLookup(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// parseInterleaved parses flags that may come before or after positional
// arguments (`user add NAME --role agent`), returning the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
