package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// maxLookupBody bounds a CRM's answer: a customer record, not a database dump.
const maxLookupBody = 1 << 20

// lookupClient follows at most three redirects; the step's timeout comes
// from the request's context.
var lookupClient = &http.Client{
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		return nil
	},
}

// lookup asks a CRM for JSON and maps its fields into variables. Any
// failure (no answer within the timeout, a status other than 2xx, a body
// that is not JSON, a field of the wrong type) returns an error and changes
// no variable, so the flow's on_failure step sees the values from before.
func (r *run) lookup(l *Lookup) error {
	start := time.Now()
	target, err := r.lookupURL(l.URL)
	if err != nil {
		return err
	}
	event := map[string]any{"url": redact(target), "method": l.Method}
	err = r.doLookup(l, target, event)
	event["ms"] = time.Since(start).Milliseconds()
	event["ok"] = err == nil
	if err != nil {
		event["error"] = err.Error()
	}
	r.ch.Event("ivr.lookup", event)
	if err != nil && r.ctx.Err() != nil {
		return errCallerGone
	}
	return err
}

func (r *run) doLookup(l *Lookup, target string, event map[string]any) error {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	var body io.Reader
	if l.Method == http.MethodPost {
		b, err := json.Marshal(r.postBody())
		if err != nil {
			return fmt.Errorf("lookup: request body: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, l.Method, target, body)
	if err != nil {
		return fmt.Errorf("lookup %s: %w", redact(target), err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := r.rt.HTTP
	if client == nil {
		client = lookupClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("lookup %s: no answer within %s", redact(target), timeout)
		}
		return fmt.Errorf("lookup %s: %w", redact(target), err)
	}
	defer resp.Body.Close()
	event["status"] = resp.StatusCode
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxLookupBody+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("lookup %s: the answer did not finish within %s", redact(target), timeout)
		}
		return fmt.Errorf("lookup %s: reading the answer: %w", redact(target), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("lookup %s: status %d", redact(target), resp.StatusCode)
	}
	if len(raw) > maxLookupBody {
		return fmt.Errorf("lookup %s: the answer is over %d bytes", redact(target), maxLookupBody)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("lookup %s: the answer is not JSON: %w", redact(target), err)
	}
	if dec.More() {
		return fmt.Errorf("lookup %s: the answer is not one JSON value", redact(target))
	}
	set := map[string]any{}
	var missing []string
	for _, name := range mapKeys(l.Map) {
		path := l.Map[name]
		v, ok := jsonField(doc, path)
		if !ok {
			missing = append(missing, path)
			continue
		}
		val, err := convertTo(r.flow.Variables[name].Initial, v)
		if err != nil {
			return fmt.Errorf("lookup %s: field %s for variable %s: %w", redact(target), path, name, err)
		}
		set[name] = val
	}
	for name, v := range set {
		r.vars[name] = v
	}
	event["set"] = mapKeys(set)
	if len(missing) > 0 {
		event["missing"] = missing
	}
	return nil
}

// lookupURL renders the URL template, escaping each value for where it
// stands (path or query), and resolves a path against the server's address.
func (r *run) lookupURL(t *Template) (string, error) {
	env := r.env()
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Expr == nil {
			b.WriteString(p.Text)
			continue
		}
		v, err := runExpr(p.Expr, env)
		if err != nil {
			return "", fmt.Errorf("flow %s: lookup url %q: %w", r.flow.Name, t.Source, err)
		}
		s := formatValue(v)
		if strings.Contains(b.String(), "?") {
			b.WriteString(url.QueryEscape(s))
		} else {
			b.WriteString(url.PathEscape(s))
		}
	}
	u := b.String()
	if strings.HasPrefix(u, "/") {
		if r.rt.BaseURL == "" {
			return "", fmt.Errorf("flow %s: lookup url %q is a path on this server, but the runtime has no base URL", r.flow.Name, t.Source)
		}
		u = strings.TrimSuffix(r.rt.BaseURL, "/") + u
	}
	return u, nil
}

// postBody is what a POST lookup sends: the call's built-ins and variables.
func (r *run) postBody() map[string]any {
	body := map[string]any{"caller": r.cx.Caller, "language": r.cx.Language, "intent": r.cx.Intent}
	for k, v := range r.vars {
		body[k] = v
	}
	return body
}

// redact drops a URL's query and user info from logs and the timeline:
// they may carry keys.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad url)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// jsonField follows a dotted path ("customer.name", "orders.0.status").
func jsonField(doc any, path string) (any, bool) {
	cur := doc
	for part := range strings.SplitSeq(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// convertTo converts a JSON value to the type of like, a variable's
// initial value.
func convertTo(like, v any) (any, error) {
	switch like.(type) {
	case string:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		case nil:
			return "", nil
		}
	case int:
		switch x := v.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
				return int(i), nil
			}
		case string:
			if i, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				return i, nil
			}
		}
	case float64:
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, nil
			}
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
	case bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
	}
	return nil, fmt.Errorf("expected %s, got %s", typeName(reflect.TypeOf(like)), jsonKind(v))
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", trimFor(x, 40))
	case json.Number:
		return "the number " + x.String()
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func trimFor(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
