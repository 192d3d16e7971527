// Package agents owns agents, teams, skills, presence and the agent state
// machine, queues, ACD routing, service-level timers and supervisor actions.
// It may import store and audit.
//
// Its code arrives with the agents work.
package agents
