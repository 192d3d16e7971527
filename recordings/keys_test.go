package recordings

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newKeys makes a random master key, as text, for each id.
func newKeys(t testing.TB, ids ...string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, id := range ids {
		k, err := GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = k
	}
	return keys
}

// testKeyring loads a keyring holding keys[id] for each of ids, from a fake
// environment, with current as the current key.
func testKeyring(t testing.TB, keys map[string]string, current string, ids ...string) *Keyring {
	t.Helper()
	env := map[string]string{}
	var specs []KeySpec
	for _, id := range ids {
		name := "SAMBUNG_REC_KEY_" + strings.ToUpper(id)
		env[name] = keys[id]
		specs = append(specs, KeySpec{ID: id, Env: name})
	}
	kr, err := LoadKeyring(specs, current, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// writeKeyFile writes text to a file named name in dir with mode perm,
// whatever the umask.
func writeKeyFile(t *testing.T, dir, name, text string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	keys := newKeys(t, "2026-06", "2026-12")
	raw, err := hex.DecodeString(keys["2026-06"])
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(raw)

	// The same key three ways: hex in the environment with whitespace
	// around it, base64 in a file, hex in a read-only file.
	env := map[string]string{"OLD": "\n  " + keys["2026-06"] + " \t\n", "NEW": keys["2026-12"]}
	getenv := func(k string) string { return env[k] }
	fromEnv, err := LoadKeyring([]KeySpec{
		{ID: "2026-06", Env: "OLD"},
		{ID: "2026-12", Env: "NEW"},
	}, "2026-12", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got := fromEnv.Current(); got != "2026-12" {
		t.Errorf("Current = %q, want 2026-12", got)
	}
	if got := fromEnv.IDs(); len(got) != 2 || got[0] != "2026-06" || got[1] != "2026-12" {
		t.Errorf("IDs = %q, want [2026-06 2026-12]", got)
	}
	for name, spec := range map[string]KeySpec{
		"base64 file":      {ID: "2026-06", File: writeKeyFile(t, dir, "b64.key", b64+"\n", 0o600)},
		"read-only file":   {ID: "2026-06", File: writeKeyFile(t, dir, "hex.key", keys["2026-06"], 0o400)},
		"uppercase hex":    {ID: "2026-06", Env: "UPPER"},
		"environment, hex": {ID: "2026-06", Env: "OLD"},
	} {
		env["UPPER"] = strings.ToUpper(keys["2026-06"])
		kr, err := LoadKeyring([]KeySpec{spec}, "2026-06", getenv)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// A recording sealed under the key loaded one way opens with the
		// key loaded another way: the decodings agree.
		path := filepath.Join(t.TempDir(), "call"+SealedExt)
		writeSealedTones(t, path, kr, 3, WriterConfig{})
		s, err := OpenSealed(path, fromEnv)
		if err != nil {
			t.Errorf("%s: sealed under it, not opened with the hex key: %v", name, err)
			continue
		}
		s.Close()
	}
}

func TestDecodeKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xa5}, keySize)
	for _, text := range []string{
		hex.EncodeToString(raw),
		" " + strings.ToUpper(hex.EncodeToString(raw)) + "\r\n",
		base64.StdEncoding.EncodeToString(raw),
	} {
		key, err := decodeKey(text)
		if err != nil || !bytes.Equal(key, raw) {
			t.Errorf("decodeKey(%q) = %x, %v; want %x", text, key, err, raw)
		}
	}
}

func TestLoadKeyringErrors(t *testing.T) {
	dir := t.TempDir()
	good := newKeys(t, "k")["k"]
	raw, _ := hex.DecodeString(good)
	short := base64.StdEncoding.EncodeToString(raw[:24])
	notHex := "zz" + good[2:]
	env := map[string]string{"GOOD": good, "SHORT_HEX": good[:62], "SHORT_B64": short, "NOT_HEX": notHex}
	getenv := func(k string) string { return env[k] }
	goodFile := writeKeyFile(t, dir, "good.key", good, 0o600)
	groupFile := writeKeyFile(t, dir, "group.key", good, 0o640)
	worldFile := writeKeyFile(t, dir, "world.key", good, 0o604)
	emptyFile := writeKeyFile(t, dir, "empty.key", "", 0o600)
	missing := filepath.Join(dir, "missing.key")

	for _, c := range []struct {
		name    string
		specs   []KeySpec
		current string
		want    []string // each must appear in the message
	}{
		{"no keys", nil, "a", []string{"recordings.encryption.keys: no keys"}},
		{"env not set", []KeySpec{{ID: "new", Env: "GOOD"}, {ID: "old", Env: "SAMBUNG_REC_KEY_OLD"}}, "new",
			[]string{`recordings.encryption.keys[1] (id "old"): environment variable SAMBUNG_REC_KEY_OLD is not set`}},
		{"file missing", []KeySpec{{ID: "a", File: missing}}, "a",
			[]string{`recordings.encryption.keys[0] (id "a")`, missing, "no such file"}},
		{"file is a directory", []KeySpec{{ID: "a", File: dir}}, "a",
			[]string{`keys[0] (id "a")`, dir, "not a regular file"}},
		{"group-readable file", []KeySpec{{ID: "a", File: groupFile}}, "a",
			[]string{`keys[0] (id "a")`, "group or others", "0640", "chmod 600 " + groupFile}},
		{"world-readable file", []KeySpec{{ID: "a", File: worldFile}}, "a",
			[]string{`keys[0] (id "a")`, "group or others", "0604", "chmod 600 " + worldFile}},
		{"empty file", []KeySpec{{ID: "a", File: emptyFile}}, "a",
			[]string{`keys[0] (id "a")`, emptyFile, "is empty"}},
		{"hex too short", []KeySpec{{ID: "a", Env: "SHORT_HEX"}}, "a",
			[]string{`keys[0] (id "a")`, "SHORT_HEX", "62 characters", "64 hex digits"}},
		{"base64 of 24 bytes", []KeySpec{{ID: "a", Env: "SHORT_B64"}}, "a",
			[]string{`keys[0] (id "a")`, "SHORT_B64", "base64 of 24 bytes", "want 32 bytes"}},
		{"64 characters, not hex", []KeySpec{{ID: "a", Env: "NOT_HEX"}}, "a",
			[]string{`keys[0] (id "a")`, "NOT_HEX", "not all hex digits"}},
		{"duplicate id", []KeySpec{{ID: "a", Env: "GOOD"}, {ID: "b", File: goodFile}, {ID: "a", File: goodFile}}, "a",
			[]string{`recordings.encryption.keys[2] (id "a"): id already used by recordings.encryption.keys[0]`}},
		{"current not among the ids", []KeySpec{{ID: "a", Env: "GOOD"}, {ID: "b", File: goodFile}}, "c",
			[]string{`recordings.encryption.current: "c" is not among the keys' ids ("a", "b")`}},
		{"current not set", []KeySpec{{ID: "a", Env: "GOOD"}}, "",
			[]string{"recordings.encryption.current is not set", `"a"`}},
		{"both file and env", []KeySpec{{ID: "a", Env: "GOOD", File: goodFile}}, "a",
			[]string{`keys[0] (id "a")`, "set exactly one"}},
		{"neither file nor env", []KeySpec{{ID: "a"}}, "a",
			[]string{`keys[0] (id "a")`, "neither file nor env"}},
		{"no id", []KeySpec{{Env: "GOOD"}}, "",
			[]string{`keys[0] (id "")`, "no id"}},
		{"id with a slash", []KeySpec{{ID: "a/b", Env: "GOOD"}}, "a/b",
			[]string{`keys[0] (id "a/b")`, `'/'`, "letters, digits"}},
		{"id too long", []KeySpec{{ID: strings.Repeat("x", 65), Env: "GOOD"}}, "x",
			[]string{"id of 65 bytes", "more than 64"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			kr, err := LoadKeyring(c.specs, c.current, getenv)
			if err == nil {
				t.Fatalf("loaded a keyring (current %q), want an error", kr.Current())
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			// An error never quotes a key, even a malformed one.
			for _, secret := range []string{good, good[2:40], short, notHex[:40]} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes a key", err)
				}
			}
		})
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 64 || a == b {
		t.Fatalf("GenerateKey gave %q and %q: want two different keys of 64 hex digits", a, b)
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Fatalf("GenerateKey gave %q: %v", a, err)
	}
	if _, err := LoadKeyring([]KeySpec{{ID: "gen", Env: "K"}}, "gen", func(string) string { return a }); err != nil {
		t.Fatalf("a generated key does not load: %v", err)
	}
}
