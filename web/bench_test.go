package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sambung/sambung/store"
)

// serveLoop runs n requests through the handler in process (no network)
// and returns the time per request.
func serveLoop(b *testing.B, h http.Handler, req func() *http.Request, n int) time.Duration {
	start := time.Now()
	for range n {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req())
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	return time.Since(start) / time.Duration(n)
}

// BenchmarkSignedInRequest measures what every signed-in API request pays
// on top of the route itself: the session lookup on SQLite, the role table
// and the CSRF check. It reports the ratio against /healthz (no session)
// measured in the same run.
func BenchmarkSignedInRequest(b *testing.B) {
	h := newHarness(b)
	c := h.signIn(store.RoleSupervisor)
	u, _ := http.NewRequest("GET", h.url, nil)
	cookie := c.http.Jar.Cookies(u.URL)[0]
	me := func() *http.Request {
		r := httptest.NewRequest("GET", "/api/v1/me", nil)
		r.AddCookie(cookie)
		return r
	}
	healthz := func() *http.Request { return httptest.NewRequest("GET", "/healthz", nil) }
	handler := h.srv.Handler()

	base := serveLoop(b, handler, healthz, 2000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, me())
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.StopTimer()
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(base.Nanoseconds()), "healthz-ns/op")
	b.ReportMetric(float64(perOp)/float64(base), "x-healthz")
}

// BenchmarkSignIn measures one sign-in: argon2id (19 MiB, 2 passes), the
// throttle's audit queries, the session insert and the audit record. The
// hash dominates by design; the ratio to a bare hash shows what the rest costs.
func BenchmarkSignIn(b *testing.B) {
	h := newHarness(b)
	handler := h.srv.Handler()
	body := `{"name":"agent","password":"` + testPassword + `"}`
	hashStart := time.Now()
	const hashes = 5
	for range hashes {
		if _, err := HashPassword(testPassword); err != nil {
			b.Fatal(err)
		}
	}
	hashCost := time.Since(hashStart) / hashes
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(body))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(hashCost.Nanoseconds()), "argon2id-ns/op")
	b.ReportMetric(float64(perOp)/float64(hashCost), "x-argon2id")
}
