package recordings

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// The master keys that seal recordings at rest (see the format in seal.go).
// Each is 32 bytes for AES-256, named by a short id written in the header of
// every file it seals, so that a file still opens after the current key has
// been rotated out, as long as the keyring keeps the old one.
const (
	// keySize is the size of master and data keys: AES-256.
	keySize = 32
	// maxKeyIDLen bounds a key id: the header stores its length in a byte.
	maxKeyIDLen = 64
)

// keysConfig is where the configuration keeps the keys; LoadKeyring's
// errors name the entries as a user writes them.
const keysConfig = "recordings.encryption"

// KeySpec says where to find one master key. Exactly one of File and Env is
// set. The key itself is text: 64 hex digits or the standard base64 of 32
// bytes (44 characters), surrounding whitespace ignored; GenerateKey makes
// one.
type KeySpec struct {
	// ID names the key in the header of every file it seals: 1 to 64
	// letters, digits, '.', '_' or '-', such as "2026-12". It must never
	// be reused for another key.
	ID string
	// File is the path of a file holding the key. It must not be
	// accessible by group or others (mode 0600 or 0400).
	File string
	// Env is the name of an environment variable holding the key.
	Env string
}

// Keyring holds the master keys recordings are sealed with: the current one
// seals new recordings, any of them opens an old one. It is safe for
// concurrent use; it never changes once loaded.
type Keyring struct {
	current string
	ids     []string               // in the configuration's order, for messages
	keys    map[string]cipher.AEAD // AES-256-GCM under each master key
}

// LoadKeyring reads the master keys specs describes and makes current (one
// of their ids) the key new recordings are sealed with. getenv looks up
// environment variables: os.Getenv, or a fake in tests; nil means os.Getenv.
//
// Its errors name the entry at fault as the configuration does, and what to
// do, e.g. `recordings.encryption.keys[1] (id "old"): environment variable
// SAMBUNG_REC_KEY_OLD is not set`. They never quote a key.
func LoadKeyring(specs []KeySpec, current string, getenv func(string) string) (*Keyring, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("%s.keys: no keys: add one, 32 random bytes as 64 hex digits (openssl rand -hex 32)", keysConfig)
	}
	kr := &Keyring{current: current, keys: make(map[string]cipher.AEAD, len(specs))}
	first := map[string]int{} // id -> index of the entry that has it
	for i, s := range specs {
		where := fmt.Sprintf("%s.keys[%d] (id %q)", keysConfig, i, s.ID)
		if err := checkKeyID(s.ID); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if j, dup := first[s.ID]; dup {
			return nil, fmt.Errorf("%s: id already used by %s.keys[%d]: each key needs an id of its own", where, keysConfig, j)
		}
		first[s.ID] = i
		key, err := readKey(s, getenv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		aead, err := newGCM(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		kr.ids = append(kr.ids, s.ID)
		kr.keys[s.ID] = aead
	}
	if current == "" {
		return nil, fmt.Errorf("%s.current is not set: name the key that seals new recordings, one of %s", keysConfig, kr.idList())
	}
	if _, ok := kr.keys[current]; !ok {
		return nil, fmt.Errorf("%s.current: %q is not among the keys' ids (%s)", keysConfig, current, kr.idList())
	}
	return kr, nil
}

// checkKeyID reports what is wrong with id, if anything. The id is written
// into files and error messages, so it is kept short and plain.
func checkKeyID(id string) error {
	if id == "" {
		return errors.New("no id: give the key a short name such as \"2026-12\"")
	}
	if len(id) > maxKeyIDLen {
		return fmt.Errorf("id of %d bytes, more than %d", len(id), maxKeyIDLen)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("id has %q: use letters, digits, '.', '_' and '-' only", c)
		}
	}
	return nil
}

// readKey reads the key s points to and decodes it.
func readKey(s KeySpec, getenv func(string) string) ([]byte, error) {
	switch {
	case s.File != "" && s.Env != "":
		return nil, fmt.Errorf("both file %s and env %s are set: set exactly one", s.File, s.Env)
	case s.Env != "":
		text := getenv(s.Env)
		if text == "" {
			return nil, fmt.Errorf("environment variable %s is not set", s.Env)
		}
		key, err := decodeKey(text)
		if err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", s.Env, err)
		}
		return key, nil
	case s.File != "":
		text, err := readKeyFile(s.File)
		if err != nil {
			return nil, err
		}
		key, err := decodeKey(text)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", s.File, err)
		}
		return key, nil
	default:
		return nil, errors.New("neither file nor env is set: set exactly one")
	}
}

// readKeyFile reads a key file, refusing one that group or others may
// access: a key anyone on the host can read protects nothing.
func readKeyFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("key file %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("key file %s is accessible by group or others (mode %04o): run chmod 600 %s",
			path, perm, path)
	}
	// A key is under 100 bytes of text: reading a little more is enough to
	// tell a key with a trailing newline from some other file.
	text, err := io.ReadAll(io.LimitReader(f, 256))
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	if len(text) == 0 {
		return "", fmt.Errorf("key file %s is empty: write a key in it (64 hex digits)", path)
	}
	return string(text), nil
}

// decodeKey decodes a key written as 64 hex digits or as the standard base64
// of 32 bytes. Its errors say what it found but never quote the text: a key
// with one wrong character is still mostly a secret.
func decodeKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	const want = "want 32 bytes as 64 hex digits or 44 base64 characters"
	if len(text) == 2*keySize {
		if key, err := hex.DecodeString(text); err == nil {
			return key, nil
		}
		return nil, fmt.Errorf("64 characters but not all hex digits: %s", want)
	}
	key, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%d characters, neither hex nor base64: %s", len(text), want)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("base64 of %d bytes: %s", len(key), want)
	}
	return key, nil
}

// newGCM returns AES-256-GCM under key, with the standard 12-byte nonce.
func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("key of %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// GenerateKey returns a new random master key as 64 hex digits, ready for a
// key file or an environment variable.
func GenerateKey() (string, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate recording key: %w", err)
	}
	return hex.EncodeToString(key), nil
}

// Current is the id of the key that seals new recordings.
func (kr *Keyring) Current() string { return kr.current }

// IDs lists the ids of the keys kr holds, in the configuration's order.
func (kr *Keyring) IDs() []string { return append([]string(nil), kr.ids...) }

// idList is the ids for a message: "a", "b".
func (kr *Keyring) idList() string {
	q := make([]string, len(kr.ids))
	for i, id := range kr.ids {
		q[i] = strconv.Quote(id)
	}
	return strings.Join(q, ", ")
}

// key returns the cipher under the master key id, or an error wrapping
// ErrNoKey that names the id and the ids kr holds.
func (kr *Keyring) key(id string) (cipher.AEAD, error) {
	aead, ok := kr.keys[id]
	if !ok {
		return nil, fmt.Errorf("needs master key %q, which the keyring does not hold (it holds %s): %w",
			id, kr.idList(), ErrNoKey)
	}
	return aead, nil
}
