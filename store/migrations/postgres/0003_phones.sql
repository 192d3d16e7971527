-- 0003_phones: SIP accounts for desk phones and trunks, and where they are
-- registered. Passwords are never stored: only the digest HA1 per algorithm.

CREATE TABLE sip_accounts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    realm        TEXT COLLATE "C" NOT NULL,
    display_name TEXT        NOT NULL,
    ha1_md5      TEXT        NOT NULL,
    ha1_sha256   TEXT        NOT NULL,
    disabled     BOOLEAN     NOT NULL DEFAULT false,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (name, realm)
);

CREATE TABLE sip_bindings (
    aor        TEXT COLLATE "C" NOT NULL,
    contact    TEXT COLLATE "C" NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    call_id    TEXT        NOT NULL,
    cseq       BIGINT      NOT NULL,
    received   TEXT        NOT NULL,
    transport  TEXT        NOT NULL,
    user_agent TEXT        NOT NULL,
    node       TEXT        NOT NULL,
    PRIMARY KEY (aor, contact)
);
