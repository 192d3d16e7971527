package ivr

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A Calendar is a set of business hours in a time zone, minus holidays.
type Calendar struct {
	Name     string
	Location *time.Location
	Hours    [7][]Span // by time.Weekday
	Holidays []string  // YYYY-MM-DD, in the calendar's zone
}

// A Span is a time of day range, in minutes since midnight, From inclusive
// and To exclusive.
type Span struct {
	From, To int
}

// Open reports whether t falls in business hours.
func (c *Calendar) Open(t time.Time) bool {
	t = t.In(c.Location)
	day := t.Format(time.DateOnly)
	for _, h := range c.Holidays {
		if h == day {
			return false
		}
	}
	m := t.Hour()*60 + t.Minute()
	for _, s := range c.Hours[t.Weekday()] {
		if m >= s.From && m < s.To {
			return true
		}
	}
	return false
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (p *parser) parseCalendars(n *yaml.Node) {
	fs := p.fields(n, "calendars")
	for _, name := range keysInOrder(n, fs) {
		fd := fs[name]
		what := fmt.Sprintf("calendar %q", name)
		c := &Calendar{Name: name, Location: time.UTC}
		p.flow.Calendars[name] = c
		cfs := p.fields(fd.val, what, "timezone", "hours", "holidays")
		if cfs == nil {
			continue
		}
		p.require(fd.val, what, cfs, "timezone", "hours")
		if tz, ok := cfs["timezone"]; ok {
			if s, ok := p.str(tz.val, what+" timezone"); ok {
				loc, err := time.LoadLocation(s)
				if err != nil {
					p.errorf(tz.val, "%s: unknown time zone %q; use an IANA name such as Asia/Jakarta", what, s)
				} else {
					c.Location = loc
				}
			}
		}
		if h, ok := cfs["hours"]; ok {
			hfs := p.fields(h.val, what+" hours")
			for _, days := range keysInOrder(h.val, hfs) {
				hf := hfs[days]
				ds, ok := parseDays(days)
				if !ok {
					p.errorf(hf.key, "%s: %q is not a day or day range such as mon, mon-fri or sat-sun", what, days)
					continue
				}
				spans, ok := parseSpans(hf.val.Value)
				if !ok || hf.val.Kind != yaml.ScalarNode {
					p.errorf(hf.val, "%s %s: expected hours such as \"08:00-20:00\" or \"08:00-12:00,13:00-17:00\", got %s", what, days, kindWord(hf.val))
					continue
				}
				for _, d := range ds {
					c.Hours[d] = append(c.Hours[d], spans...)
				}
			}
		}
		if hd, ok := cfs["holidays"]; ok {
			for _, s := range p.strList(hd.val, what+" holidays") {
				if _, err := time.Parse(time.DateOnly, s); err != nil {
					p.errorf(hd.val, "%s: holiday %q is not a date such as 2026-12-25", what, s)
					continue
				}
				c.Holidays = append(c.Holidays, s)
			}
		}
	}
}

// parseDays reads "mon", "mon-fri" or "fri-mon" (wrapping past Sunday).
func parseDays(s string) ([]time.Weekday, bool) {
	from, to, isRange := strings.Cut(strings.ToLower(s), "-")
	if !isRange {
		to = from
	}
	a, b := dayIndex(from), dayIndex(to)
	if a < 0 || b < 0 {
		return nil, false
	}
	var out []time.Weekday
	for d := a; ; d = (d + 1) % 7 {
		out = append(out, time.Weekday(d))
		if d == b {
			return out, true
		}
	}
}

func dayIndex(s string) int {
	for i, d := range weekdays {
		if d == s {
			return i
		}
	}
	return -1
}

// parseSpans reads "08:00-20:00" or several separated by commas; 24:00 ends a day.
func parseSpans(s string) ([]Span, bool) {
	var out []Span
	for part := range strings.SplitSeq(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			return nil, false
		}
		a, okA := clock(from)
		b, okB := clock(to)
		if !okA || !okB || a >= b {
			return nil, false
		}
		out = append(out, Span{a, b})
	}
	return out, len(out) > 0
}

func clock(s string) (int, bool) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%2d:%2d", &h, &m); err != nil || h > 24 || m > 59 || h == 24 && m != 0 || h < 0 || m < 0 {
		return 0, false
	}
	return h*60 + m, true
}
