package web

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed static
var staticFiles embed.FS

var staticFS, _ = fs.Sub(staticFiles, "static")

// static serves /static/... from the embedded files.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	http.StripPrefix("/static/", http.FileServerFS(staticFS)).ServeHTTP(w, r)
}

// page serves one embedded HTML page.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := fs.ReadFile(staticFS, name)
		if err != nil {
			s.log.Error("web: page missing from the binary", "page", name, "err", err)
			http.Error(w, "page missing", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	}
}

// widget serves the click-to-call widget script that other sites embed
// (docs/webcall.md): cacheable for a few minutes, and loadable from any
// origin, as a script tag needs.
func (s *Server) widget(w http.ResponseWriter, r *http.Request) {
	body, err := fs.ReadFile(staticFS, "widget.js")
	if err != nil {
		s.log.Error("web: widget.js missing from the binary", "err", err)
		http.Error(w, "widget missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	_, _ = w.Write(body)
}

// rootPage sends a signed-in user to their landing page, anyone else to sign in.
func (s *Server) rootPage(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.authenticate(r); ok {
		http.Redirect(w, r, landing[p.user.Role], http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

var forbiddenTmpl = template.Must(template.New("403").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Not allowed · Sambung</title><link rel="icon" href="/static/img/logo.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/app.css"></head>
<body class="center-page"><main class="card"><h1>Not allowed</h1><p>{{.Message}}</p>
<p><a href="{{.Home}}">Go to your page</a></p></main></body></html>
`))

func (s *Server) forbiddenPage(w http.ResponseWriter, msg, home string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_ = forbiddenTmpl.Execute(w, struct{ Message, Home string }{msg, home})
}
