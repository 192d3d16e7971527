package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/sambung/sambung/store"
	"github.com/sambung/sambung/web"
)

const userUsage = `
Usage:
  sambung user add NAME --role ROLE [--display-name TEXT]
  sambung user list
  sambung user disable NAME
  sambung user enable NAME
  sambung user passwd NAME

Roles: agent, supervisor, qa, admin. A new password is asked for at the
terminal (twice), or read as the first line of standard input when that is
not a terminal:  echo "$PW" | sambung user add siti --role agent

These commands open the same database the server uses (the same config,
environment and flags), so they work while the server runs. Every change is
audited with the operating-system user who made it.
`

func (e *env) user(ctx context.Context, args []string) int {
	fs := e.flagSet("user", userUsage)
	cf := bindConfigFlags(fs)
	role := fs.String("role", "", "for add: agent, supervisor, qa or admin")
	display := fs.String("display-name", "", "for add: the name shown on pages (default: NAME)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) == 0 {
		fs.Usage()
		return exitUsage
	}
	verb, rest := pos[0], pos[1:]
	wantArgs := map[string]int{"add": 1, "list": 0, "disable": 1, "enable": 1, "passwd": 1}
	n, known := wantArgs[verb]
	if !known {
		fmt.Fprintf(e.stderr, "sambung user: unknown action %q (add, list, disable, enable, passwd)\n", verb)
		return exitUsage
	}
	if len(rest) != n {
		fmt.Fprintf(e.stderr, "sambung user %s: expected %d argument(s), got %d; see sambung help user\n", verb, n, len(rest))
		return exitUsage
	}
	if verb == "add" && !store.Role(*role).Valid() {
		fmt.Fprintf(e.stderr, "sambung user add: --role must be agent, supervisor, qa or admin (got %q)\n", *role)
		return exitUsage
	}
	st, al, _, closeStores, code := e.commandStores(ctx, "user", cf)
	if code != exitOK {
		return code
	}
	defer closeStores()
	acc := web.Accounts{Store: st, Audit: al}
	by := web.Actor{Name: cliActor()}

	switch verb {
	case "list":
		err = e.listUsers(ctx, st)
	case "add":
		var pw string
		if pw, err = e.newPassword(rest[0]); err == nil {
			_, err = acc.Add(ctx, by, rest[0], *display, store.Role(*role), pw)
		}
		if err == nil {
			fmt.Fprintf(e.stdout, "added %s (%s)\n", rest[0], *role)
		}
	case "disable", "enable":
		if _, err = acc.SetDisabled(ctx, by, rest[0], verb == "disable"); err == nil {
			fmt.Fprintf(e.stdout, "%sd %s\n", verb, rest[0])
		}
	case "passwd":
		var pw string
		if pw, err = e.newPassword(rest[0]); err == nil {
			err = acc.SetPassword(ctx, by, rest[0], pw)
		}
		if err == nil {
			fmt.Fprintf(e.stdout, "password changed for %s; their sessions have ended\n", rest[0])
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung user %s: %s\n", verb, userErrText(err))
		return exitError
	}
	return exitOK
}

// userErrText says what went wrong in a person's words.
func userErrText(err error) string {
	switch {
	case errors.Is(err, store.ErrExists):
		return strings.TrimSuffix(err.Error(), ": "+store.ErrExists.Error()) + " already exists"
	case errors.Is(err, store.ErrNotFound):
		return strings.TrimSuffix(err.Error(), ": "+store.ErrNotFound.Error()) + " does not exist"
	}
	return err.Error()
}

func (e *env) listUsers(ctx context.Context, st store.Store) error {
	users, err := st.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tDISPLAY NAME\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, status, u.DisplayName, u.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// newPassword asks for a password twice at a terminal, or reads one line
// from a pipe.
func (e *env) newPassword(name string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "New password for %s: ", name)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(e.stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), web.CheckNewPassword(string(a))
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input (give it as the first line)")
	}
	return pw, web.CheckNewPassword(pw)
}

// cliActor names the person at the terminal for the audit trail.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

const configUsage = `
Usage:
  sambung config [flags]          print the effective configuration as YAML
  sambung config --keys           list every key with its environment variable

The effective configuration is the defaults, then the file (--config or
SAMBUNG_CONFIG), then SAMBUNG_* environment variables, then flags. Passwords
in database URLs are hidden.
`

func (e *env) config(ctx context.Context, args []string) int {
	fs := e.flagSet("config", configUsage)
	cf := bindConfigFlags(fs)
	list := fs.Bool("keys", false, "list every key, its environment variable and what it does")
	if err := fs.Parse(args); err != nil {
		return parseErr(err)
	}
	if *list {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tENVIRONMENT\tMEANING")
		for _, k := range keys() {
			help := k.help
			if k.oneof != nil {
				help += " (" + strings.Join(k.oneof, ", ") + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k.path, k.envName(), help)
		}
		_ = tw.Flush()
		return exitOK
	}
	cfg, ok := e.loadConfig(cf)
	if !ok {
		return exitUsage
	}
	out, err := marshalConfig(cfg.redacted())
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung config: %v\n", err)
		return exitError
	}
	_, _ = e.stdout.Write(out)
	return exitOK
}
