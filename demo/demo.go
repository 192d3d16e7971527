// Package demo is the demo line that `make run` answers: its flow, the
// prompts rendered ahead of time so it speaks on a machine with no TTS,
// and a small CRM of customers and orders for the flow's lookups, served
// by Sambung itself at /demo/crm/.
package demo

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"

	"github.com/sambung/sambung/ivr"
)

//go:embed flows/default.yaml flows/default.training.tsv
var flows embed.FS

//go:embed prompts
var prompts embed.FS

// FlowFile is the demo flow's file name, for diagnostics.
const FlowFile = "demo/flows/default.yaml"

// Flow returns the demo flow's YAML.
func Flow() []byte {
	b, err := flows.ReadFile("flows/default.yaml")
	if err != nil {
		panic("demo: the flow is not embedded: " + err.Error())
	}
	return b
}

// Files is the demo flow's directory as embedded in the binary: the flow
// and the training file it names.
func Files() fs.FS {
	sub, err := fs.Sub(flows, "flows")
	if err != nil {
		panic("demo: the flow is not embedded: " + err.Error())
	}
	return sub
}

// ParseFlow parses and checks the demo flow, reading its training file
// from the binary, so the demo needs no file on disk. Diagnostics name
// the files by FlowFile.
func ParseFlow() (*ivr.Flow, ivr.Diagnostics) {
	return ivr.ParseFS(Files(), FlowFile, Flow())
}

// Prompts are the flow's prompts rendered by scripts/prompts.sh, named by
// ivr.SeedName.
func Prompts() fs.FS {
	sub, err := fs.Sub(prompts, "prompts")
	if err != nil {
		panic("demo: the prompts are not embedded: " + err.Error())
	}
	return sub
}

// A Customer of the demo CRM.
type Customer struct {
	Name string `json:"name"`
	Tier string `json:"tier"`
}

// An Order of the demo CRM.
type Order struct {
	State   string `json:"state"` // shipped, delivered or preparing
	ETADays int    `json:"eta_days"`
}

// Customers are keyed by caller number (the SIP user part); "ayu" and
// "budi" are for softphones that register under a name.
var Customers = map[string]Customer{
	"+6281100001111": {Name: "Ayu", Tier: "vip"},
	"ayu":            {Name: "Ayu", Tier: "vip"},
	"+6281100002222": {Name: "Budi", Tier: "standard"},
	"budi":           {Name: "Budi", Tier: "standard"},
	"+85291230000":   {Name: "Chan", Tier: "gold"},
}

// Orders are keyed by order number.
var Orders = map[string]Order{
	"12345": {State: "shipped", ETADays: 2},
	"11111": {State: "delivered"},
	"22222": {State: "preparing"},
}

// CRM serves GET /demo/crm/customers/{number} and /demo/crm/orders/{number}
// as JSON, 404 for anyone or anything unknown.
func CRM() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /demo/crm/customers/{number}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := Customers[strings.TrimSpace(r.PathValue("number"))]
		reply(w, c, ok)
	})
	mux.HandleFunc("GET /demo/crm/orders/{number}", func(w http.ResponseWriter, r *http.Request) {
		o, ok := Orders[r.PathValue("number")]
		reply(w, o, ok)
	})
	return mux
}

func reply(w http.ResponseWriter, v any, ok bool) {
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"not found"}`))
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}
