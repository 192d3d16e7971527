-- 0003_phones: SIP accounts for desk phones and trunks, and where they are
-- registered. Passwords are never stored: only the digest HA1 per algorithm.

CREATE TABLE sip_accounts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    realm        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    ha1_md5      TEXT NOT NULL,
    ha1_sha256   TEXT NOT NULL,
    disabled     INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (name, realm)
) STRICT;

CREATE TABLE sip_bindings (
    aor        TEXT NOT NULL,
    contact    TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    cseq       INTEGER NOT NULL,
    received   TEXT NOT NULL,
    transport  TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    node       TEXT NOT NULL,
    PRIMARY KEY (aor, contact)
) STRICT;
