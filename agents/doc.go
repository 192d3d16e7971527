// Package agents owns agents, teams, skills, presence and the agent state
// machine, queues, ACD routing, service-level timers and supervisor actions.
// It may import store and audit.
//
// The ACD keeps its shared state in the store, so several server nodes can
// share one database: agents and their states (with an append-only history),
// queue entries and callbacks. A call waits on the node that holds it, as a
// Waiting; each node's Run loop runs the timers of its own calls, offers
// them and any node's callbacks to free agents, and notices agents freed on
// other nodes every Config.Poll. Reserving an agent for a call is one store
// transaction, so two nodes never offer one agent two calls.
//
// Routing: of the available agents holding every skill a call requires, the
// longest idle gets the open call ahead of all others it could take, by
// priority (from the customer tier), then by time waited.
package agents
