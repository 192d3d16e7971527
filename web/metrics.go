package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the web server's Prometheus series, on a registry of its own
// so that tests and several servers in one process do not collide.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	wsClients prometheus.Gauge
	wsDropped prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sambung_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sambung_http_request_duration_seconds", Help: "HTTP request handling time by route pattern.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sambung_logins_total", Help: "Sign-in attempts by outcome (success, failure, throttled).",
		}, []string{"outcome"}),
		wsClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sambung_live_sockets", Help: "Connected live-event WebSockets.",
		}),
		wsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sambung_live_events_dropped_total", Help: "Live events not delivered because a page could not keep up.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.logins, m.wsClients, m.wsDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry exposes the registry so other packages' collectors can join /metrics.
func (s *Server) Registry() prometheus.Registerer { return s.metrics.reg }

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
