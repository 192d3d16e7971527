package store

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports guards the package's edges: store imports none of Sambung's
// own packages (they sit above it), and each driver stays in its engine's
// files, so that nothing else in the package handles pgx or SQLite types.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case strings.HasPrefix(p, "github.com/sambung/sambung"):
				t.Errorf("%s imports %s: store must not depend on Sambung's other packages", name, p)
			case strings.HasPrefix(p, "github.com/jackc/") && !strings.HasPrefix(name, "postgres"):
				t.Errorf("%s imports %s: pgx belongs in postgres*.go only", name, p)
			case strings.HasPrefix(p, "modernc.org/") && !strings.HasPrefix(name, "sqlite"):
				t.Errorf("%s imports %s: the SQLite driver belongs in sqlite*.go only", name, p)
			}
		}
	}
}
