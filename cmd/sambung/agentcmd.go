package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sambung/sambung/store"
)

const agentUsage = `
Usage:
  sambung agent set NAME [--skills LIST] [--add-skills LIST] [--remove-skills LIST]
                         [--team TEXT] [--level N] [--phone SIP_URI]
  sambung agent list
  sambung agent show NAME

An agent is a user with role agent or supervisor who takes calls. A queued
call rings only an available agent who holds every skill it needs; the IVR
asks for language:CODE and intent:NAME, e.g. language:en and intent:billing.
An agent with no skills is offered no queued call.

set makes the user an agent (offline until they sign in to the agent page),
or changes one, keeping its state. LIST is comma-separated skills, each
kind:value (letters, digits, '_', '-', '.'; case counts); agent:ID skills
are every agent's own and are not given. --skills replaces the skills, then
--add-skills adds to them and --remove-skills takes away; the team and the
level stay as they were unless given. --phone gives the agent a SIP desk
phone to take calls on: a call offered to them rings it (an INVITE), and
its answer is theirs; the agent page, if open, shows the ring and the
context. --phone "" takes calls in the browser again. show adds the last
state changes.

These commands open the same database the server uses, so they work while it
runs: the ACD routes by the new skills within a second. Every change is
audited with the operating-system user who made it.
`

// agentHistory is how many state changes `agent show` prints.
const agentHistory = 10

// skillPattern is a skill an administrator may give: kind:value. Case
// counts, as in the skills flows ask for (intent:OrderStatus).
var skillPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$`)

// skillList is a flag holding comma-separated skills; it may be repeated.
// The skills are checked after parsing, so that a bad one gets a line of
// its own rather than the whole flag list.
type skillList struct {
	given  bool
	skills []string
}

func (l *skillList) String() string { return "" }
func (l *skillList) Set(s string) error {
	l.given = true
	for _, sk := range strings.Split(s, ",") {
		if sk = strings.TrimSpace(sk); sk != "" {
			l.skills = append(l.skills, sk)
		}
	}
	return nil
}

// checkSkill says what is wrong with a skill, in a person's words.
func checkSkill(s string) error {
	if !skillPattern.MatchString(s) {
		return fmt.Errorf("skill %q: a skill is kind:value, each part letters, digits, '_', '-' or '.', e.g. language:en", s)
	}
	if strings.HasPrefix(s, "agent:") {
		return fmt.Errorf("skill %q: agent:ID skills are implicit (every agent holds their own); leave them out", s)
	}
	return nil
}

func (e *env) agent(ctx context.Context, args []string) int {
	fs := e.flagSet("agent", agentUsage)
	cf := bindConfigFlags(fs)
	var skills, add, remove skillList
	fs.Var(&skills, "skills", "for set: the agent's skills, a comma-separated `LIST` replacing the ones they have, e.g. language:en,intent:billing (\"\" for none)")
	fs.Var(&add, "add-skills", "for set: a comma-separated `LIST` of skills to add")
	fs.Var(&remove, "remove-skills", "for set: a comma-separated `LIST` of skills to take away")
	var team *string
	fs.Func("team", "for set: the agent's team, any `TEXT` (\"\" for none)", func(s string) error {
		team = &s
		return nil
	})
	var phone *string
	fs.Func("phone", "for set: the SIP `URI` of the desk phone the agent takes calls on, e.g. sip:1001@sambung (a phone registered here) or sip:1001@10.0.0.7:5060 (\"\" for the browser)", func(s string) error {
		if s != "" && (!strings.HasPrefix(s, "sip:") || strings.ContainsAny(s, " \t\r\n<>\"")) {
			return fmt.Errorf("%q is not a SIP URI such as sip:1001@sambung", s)
		}
		phone = &s
		return nil
	})
	var levelText *string
	fs.Func("level", "for set: the agent's level, a whole number `N` from 0", func(s string) error {
		levelText = &s
		return nil
	})
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseErr(err)
	}
	if len(pos) == 0 {
		fs.Usage()
		return exitUsage
	}
	verb, rest := pos[0], pos[1:]
	wantArgs := map[string]int{"set": 1, "list": 0, "show": 1}
	n, known := wantArgs[verb]
	if !known {
		fmt.Fprintf(e.stderr, "sambung agent: unknown action %q (set, list, show)\n", verb)
		return exitUsage
	}
	if len(rest) != n {
		fmt.Fprintf(e.stderr, "sambung agent %s: expected %d argument(s), got %d; see sambung help agent\n", verb, n, len(rest))
		return exitUsage
	}
	edits := skills.given || add.given || remove.given || team != nil || levelText != nil || phone != nil
	if verb == "set" && !edits {
		fmt.Fprintf(e.stderr, "sambung agent set: nothing to set: give --skills, --add-skills, --remove-skills, --team, --level or --phone\n")
		return exitUsage
	}
	if verb != "set" && edits {
		fmt.Fprintf(e.stderr, "sambung agent %s: --skills, --add-skills, --remove-skills, --team, --level and --phone are for set\n", verb)
		return exitUsage
	}
	for _, l := range []skillList{skills, add, remove} {
		for _, s := range l.skills {
			if err := checkSkill(s); err != nil {
				fmt.Fprintf(e.stderr, "sambung agent set: %v\n", err)
				return exitUsage
			}
		}
	}
	var level *int
	if levelText != nil {
		n, err := strconv.Atoi(*levelText)
		if err != nil || n < 0 {
			fmt.Fprintf(e.stderr, "sambung agent set: --level: expected a whole number from 0, got %q\n", *levelText)
			return exitUsage
		}
		level = &n
	}
	st, al, _, closeStores, code := e.commandStores(ctx, "agent", cf)
	if code != exitOK {
		return code
	}
	defer closeStores()

	switch verb {
	case "list":
		err = e.listAgents(ctx, st)
	case "show":
		err = e.showAgent(ctx, st, rest[0])
	case "set":
		var a store.Agent
		var created bool
		a, created, err = e.setAgent(ctx, st, rest[0], agentEdit{skills: skills, add: add.skills, remove: remove.skills, team: team, level: level, phone: phone})
		if err != nil {
			break
		}
		_ = al.Record(ctx, store.AuditEvent{Actor: cliActor(), Action: "agent.set", Target: a.Name, Detail: map[string]string{
			"skills": strings.Join(a.Skills, ","), "team": a.Team, "level": strconv.Itoa(a.Level), "phone": a.Phone, "created": strconv.FormatBool(created)}})
		what := "updated"
		if created {
			what = "made"
		}
		fmt.Fprintf(e.stdout, "%s agent %s\n", what, a.Name)
		err = printAgent(e.stdout, a)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "sambung agent %s: %s\n", verb, userErrText(err))
		return exitError
	}
	return exitOK
}

// agentEdit is what `agent set` was asked to change; nil fields stay.
type agentEdit struct {
	skills      skillList
	add, remove []string
	team        *string
	level       *int
	phone       *string
}

// setAgent applies ed to the user name, making them an agent if they are
// not one yet. It refuses users who do not take calls.
func (e *env) setAgent(ctx context.Context, st store.Store, name string, ed agentEdit) (store.Agent, bool, error) {
	u, err := st.UserByName(ctx, name)
	if err != nil {
		return store.Agent{}, false, err
	}
	if u.Role != store.RoleAgent && u.Role != store.RoleSupervisor {
		return store.Agent{}, false, fmt.Errorf("user %q has role %s: only agents and supervisors take calls (sambung user add NAME --role agent)", name, u.Role)
	}
	if u.Disabled {
		fmt.Fprintf(e.stderr, "sambung agent set: warning: user %q is disabled; they take no calls until enabled\n", name)
	}
	a, err := st.AgentByID(ctx, u.ID)
	created := errors.Is(err, store.ErrNotFound)
	if err != nil && !created {
		return store.Agent{}, false, err
	}
	a.UserID = u.ID
	if ed.skills.given {
		a.Skills = slices.Clone(ed.skills.skills)
	}
	a.Skills = append(a.Skills, ed.add...)
	for _, s := range ed.remove {
		if !slices.Contains(a.Skills, s) {
			fmt.Fprintf(e.stderr, "sambung agent set: warning: %s has no skill %s to remove\n", name, s)
		}
		a.Skills = slices.DeleteFunc(a.Skills, func(x string) bool { return x == s })
	}
	if ed.team != nil {
		a.Team = *ed.team
	}
	if ed.level != nil {
		a.Level = *ed.level
	}
	phone := a.Phone
	a, err = st.PutAgent(ctx, a)
	if err != nil {
		return store.Agent{}, false, fmt.Errorf("agent %q: %w", name, err)
	}
	a.Phone = phone
	if ed.phone != nil {
		if err := st.SetAgentPhone(ctx, u.ID, *ed.phone); err != nil {
			return store.Agent{}, false, fmt.Errorf("agent %q: %w", name, err)
		}
		a.Phone = *ed.phone
	}
	return a, created, nil
}

func (e *env) listAgents(ctx context.Context, st store.Store) error {
	as, err := st.ListAgents(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(as, func(a, b store.Agent) int { return strings.Compare(a.Name, b.Name) })
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tSTATE\tSINCE\tTEAM\tLEVEL\tSKILLS")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", a.Name, a.DisplayName, a.State, a.Since.Local().Format("2006-01-02 15:04"),
			orDash(a.Team), a.Level, orDash(strings.Join(a.Skills, ",")))
	}
	return tw.Flush()
}

func (e *env) showAgent(ctx context.Context, st store.Store, name string) error {
	u, err := st.UserByName(ctx, name)
	if err != nil {
		return err
	}
	a, err := st.AgentByID(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("user %q is not an agent yet (sambung agent set %s --skills ...)", name, name)
	}
	if err != nil {
		return err
	}
	if err := printAgent(e.stdout, a); err != nil {
		return err
	}
	hist, err := st.AgentStates(ctx, a.UserID)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	if len(hist) == 0 {
		fmt.Fprintln(e.stdout, "no state changes yet")
		return nil
	}
	hist = hist[max(len(hist)-agentHistory, 0):]
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tSTATE\tREASON\tCALL\tBY")
	for _, h := range hist {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.At.Local().Format("2006-01-02 15:04:05"), h.State,
			orDash(h.Reason), orDash(h.CallID), orDash(h.Actor))
	}
	return tw.Flush()
}

// printAgent writes one agent as labelled lines.
func printAgent(w io.Writer, a store.Agent) error {
	skills := strings.Join(a.Skills, ", ")
	if skills == "" {
		skills = "none: no queued call will ring them"
	}
	state := a.State
	if a.Reason != "" {
		state += " (" + a.Reason + ")"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s (%s)\n", a.Name, a.DisplayName)
	fmt.Fprintf(tw, "state:\t%s since %s\n", state, a.Since.Local().Format("2006-01-02 15:04"))
	fmt.Fprintf(tw, "team:\t%s\n", orDash(a.Team))
	fmt.Fprintf(tw, "level:\t%d\n", a.Level)
	fmt.Fprintf(tw, "skills:\t%s\n", skills)
	phone := a.Phone
	if phone == "" {
		phone = "the browser (the agent page)"
	}
	fmt.Fprintf(tw, "takes calls on:\t%s\n", phone)
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
