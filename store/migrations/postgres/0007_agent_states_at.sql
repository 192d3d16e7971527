-- 0007_agent_states_at: the wallboard reads every agent's state changes of
-- the day (AgentStatesSince).

CREATE INDEX agent_states_at ON agent_states (at);
