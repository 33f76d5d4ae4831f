-- +goose Up
-- Roles (services/access): every API key has one, and an optional scope of services; keys
-- stored before roles existed become finance keys, which may do what every key could do but
-- post PEC receipts, read the audit trail and manage keys and users. A rotated key keeps
-- working until previous_valid_until.
ALTER TABLE api_clients
    ADD COLUMN role text NOT NULL DEFAULT 'finance'
        CHECK (role IN ('finance', 'operator', 'integration', 'auditor', 'admin', 'pec-gateway')),
    ADD COLUMN services text[] NOT NULL DEFAULT '{}',
    ADD COLUMN all_debts boolean NOT NULL DEFAULT false,
    ADD COLUMN previous_key_sha256 bytea UNIQUE CHECK (length(previous_key_sha256) = 32),
    ADD COLUMN previous_valid_until timestamptz,
    ADD CONSTRAINT api_clients_previous_key CHECK ((previous_key_sha256 IS NULL) = (previous_valid_until IS NULL));
ALTER TABLE api_clients ALTER COLUMN role DROP DEFAULT;

-- Who created a debt through the API ("client:<name>"; empty for campaigns and older debts):
-- an integration key sees only its own debts unless granted all_debts.
ALTER TABLE debt_positions ADD COLUMN created_by text NOT NULL DEFAULT '';

-- The console's accounts, one per person: the password as an argon2id PHC string; after
-- repeated failures the account is locked until locked_until.
CREATE TABLE console_users (
    id            bigserial PRIMARY KEY,
    name          text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    role          text        NOT NULL
        CHECK (role IN ('finance', 'operator', 'integration', 'auditor', 'admin', 'pec-gateway')),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    failed_logins int         NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- The audit trail (services/audit): append only. Each row's hash is SHA-256 over the row in
-- canonical form and the previous row's hash, so removing or altering a row breaks the chain;
-- audit_head keeps the last hash, so removing the newest rows breaks it too. Writers take the
-- head's row lock, one at a time. Rows are kept 10 years: the purge alone may delete older
-- ones, oldest first, and keeps the last one's id and hash as the anchor the chain starts from.
CREATE TABLE audit_log (
    id        bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text        NOT NULL,
    role      text        NOT NULL,
    action    text        NOT NULL,
    targets   jsonb       NOT NULL DEFAULT '{}',
    reason    text        NOT NULL DEFAULT '',
    ip        text        NOT NULL DEFAULT '',
    outcome   int         NOT NULL,
    prev_hash bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash      bytea       NOT NULL UNIQUE CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_targets ON audit_log USING gin (targets jsonb_path_ops);

CREATE TABLE audit_head (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id     bigint  NOT NULL,
    hash        bytea   NOT NULL CHECK (length(hash) = 32),
    anchor_id   bigint  NOT NULL,
    anchor_hash bytea   NOT NULL CHECK (length(anchor_hash) = 32)
);
INSERT INTO audit_head (last_id, hash, anchor_id, anchor_hash) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000',
    0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- +goose StatementBegin
-- The purge (incasso.audit_purge set for its transaction) may delete rows older than 10 years.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('incasso.audit_purge', true) = 'on'
       AND OLD.at < now() - interval '10 years' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE console_users;
ALTER TABLE debt_positions DROP COLUMN created_by;
ALTER TABLE api_clients DROP CONSTRAINT api_clients_previous_key,
    DROP COLUMN previous_valid_until, DROP COLUMN previous_key_sha256,
    DROP COLUMN all_debts, DROP COLUMN services, DROP COLUMN role;
