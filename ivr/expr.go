package ivr

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"go.yaml.in/yaml/v3"
)

// builtins are the names every expression may use besides the flow's
// variables, with their types. The runtime fills in their values per call.
var builtins = map[string]reflect.Type{
	"caller":         reflect.TypeFor[string](),
	"language":       reflect.TypeFor[string](),
	"intent":         reflect.TypeFor[string](),
	"tier":           reflect.TypeFor[string](),
	"confidence":     reflect.TypeFor[float64](),
	"now":            reflect.TypeFor[time.Time](),
	"business_hours": reflect.TypeFor[func(string) bool](),
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "true/false"
	case reflect.Func:
		return "function"
	}
	return t.String()
}

// runExpr evaluates a compiled expression. Programs are read-only, so
// every call shares them.
func runExpr(e *Expr, env map[string]any) (any, error) {
	return expr.Run(e.Program, env)
}

// exprEnv is the environment expressions are type-checked against: a zero
// value of the right type for each built-in name and each variable.
func exprEnv(f *Flow) map[string]any {
	env := map[string]any{}
	for name, t := range builtins {
		env[name] = reflect.Zero(t).Interface()
	}
	env["business_hours"] = func(string) bool { return false }
	for name, v := range f.Variables {
		env[name] = v.Initial
	}
	return env
}

// compile compiles src, the text of node n starting offset characters into
// n's value, as an expression whose result is of kind want (Invalid: any).
// Errors are reported at the expression's position in the file.
func (p *parser) compile(n *yaml.Node, src string, offset int, want reflect.Kind, what string) *Expr {
	opts := []expr.Option{expr.Env(p.env)}
	switch want {
	case reflect.Bool:
		opts = append(opts, expr.AsBool())
	case reflect.Int:
		opts = append(opts, expr.AsInt())
	case reflect.Float64:
		opts = append(opts, expr.AsFloat64())
	case reflect.String:
		opts = append(opts, expr.AsKind(reflect.String))
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		var fe *file.Error
		msg, col := err.Error(), 0
		if errors.As(err, &fe) {
			msg = fe.Message
			if fe.Line <= 1 {
				col = fe.Column
			}
			if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
				msg = fmt.Sprintf("unknown name %q: not a declared variable or built-in%s", name, didYouMean(name, mapKeys(p.env)))
			}
		}
		line, c := exprPos(n, offset+col)
		p.at(line, c, SeverityError, "%s: expression %q: %s", what, src, msg)
		return nil
	}
	// business_hours takes a calendar by name, checked now rather than on a call.
	ast.Walk(new(prog.Node()), visitor(func(node ast.Node) {
		call, ok := node.(*ast.CallNode)
		if !ok {
			return
		}
		if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "business_hours" {
			return
		}
		if len(call.Arguments) != 1 {
			return // the type checker has already refused it
		}
		line, c := exprPos(n, offset+call.Arguments[0].Location().From)
		arg, ok := call.Arguments[0].(*ast.StringNode)
		if !ok {
			p.at(line, c, SeverityError, "%s: business_hours takes a calendar name in quotes, such as business_hours(\"support\")", what)
			return
		}
		if _, ok := p.flow.Calendars[arg.Value]; !ok {
			p.at(line, c, SeverityError, "%s: business_hours(%q): there is no calendar %q%s; add it under calendars", what, arg.Value, arg.Value, didYouMean(arg.Value, mapKeys(p.flow.Calendars)))
		}
	}))
	return &Expr{Source: src, Program: prog}
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// exprPos is the file position of the character offset characters into the
// value of scalar n. The offset is only added where the value's characters
// map one to one onto the file: one line, and no escapes in quoted styles.
func exprPos(n *yaml.Node, offset int) (line, col int) {
	if strings.Contains(n.Value, "\n") {
		return n.Line, n.Column
	}
	switch n.Style {
	case 0:
		return n.Line, n.Column + offset
	case yaml.SingleQuotedStyle:
		if !strings.Contains(n.Value, "'") {
			return n.Line, n.Column + 1 + offset
		}
	case yaml.DoubleQuotedStyle:
		if !strings.ContainsAny(n.Value, "\"\\") {
			return n.Line, n.Column + 1 + offset
		}
	}
	return n.Line, n.Column
}

// template parses text with {{ EXPR }} parts, compiling each expression.
func (p *parser) template(n *yaml.Node, text, what string) *Template {
	t := &Template{Source: text}
	rest, pos := text, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				line, c := exprPos(n, runeOffset(text, pos+strings.Index(rest, "}}")))
				p.at(line, c, SeverityError, "%s: }} with no {{ before it", what)
			}
			if rest != "" {
				t.Parts = append(t.Parts, TemplatePart{Text: rest})
			}
			return t
		}
		if i > 0 {
			t.Parts = append(t.Parts, TemplatePart{Text: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			line, c := exprPos(n, runeOffset(text, pos+i))
			p.at(line, c, SeverityError, "%s: {{ is not closed; write {{ name }}", what)
			return t
		}
		src := rest[i+2 : i+2+j]
		offset := pos + i + 2 + len(src) - len(strings.TrimLeft(src, " "))
		if strings.TrimSpace(src) == "" {
			line, c := exprPos(n, runeOffset(text, pos+i))
			p.at(line, c, SeverityError, "%s: {{ }} is empty; put a variable or expression inside", what)
		} else if e := p.compile(n, strings.TrimSpace(src), runeOffset(text, offset), reflect.Invalid, what+" template"); e != nil {
			t.Parts = append(t.Parts, TemplatePart{Expr: e})
		}
		rest = rest[i+2+j+2:]
		pos += i + 2 + j + 2
	}
}

// runeOffset converts a byte offset into text to a character offset.
func runeOffset(text string, byteOff int) int {
	return len([]rune(text[:byteOff]))
}
