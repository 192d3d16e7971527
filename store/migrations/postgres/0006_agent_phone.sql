-- 0006_agent_phone: the SIP phone an agent takes calls on, when it is a
-- desk phone rather than the browser: a SIP URI, or an address-of-record
-- of this server's registrar; empty for the browser.

ALTER TABLE agents ADD COLUMN phone TEXT NOT NULL DEFAULT '';
