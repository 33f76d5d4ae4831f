-- +goose Up
-- Escalation policies: the reminder ladder of a service, versioned. A debt keeps the version
-- it started with unless an operator upgrades it.
CREATE TABLE escalation_policies (
    id           bigserial PRIMARY KEY,
    service_code text        NOT NULL,
    version      int         NOT NULL CHECK (version >= 1),
    steps        jsonb       NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL DEFAULT '',
    UNIQUE (service_code, version)
);

ALTER TABLE debt_positions
    ADD COLUMN debtor_pec     text NOT NULL DEFAULT '', -- certified email (PEC), when the debtor has one
    ADD COLUMN policy_version int,                      -- the escalation policy version it follows
    ADD COLUMN ladder_step    text NOT NULL DEFAULT '', -- the last reminder step taken
    ADD COLUMN ladder_step_at timestamptz;

-- Every message to a citizen: email, PEC, or a letter for registered post. The outbox states:
-- PENDING (composed, archived, not sent), SENDING (the relay was about to accept it when the
-- worker stopped: never resent blindly), SENT, UNCONFIRMED (SENDING found by a retry: whether
-- the relay got it is unknown, an operator checks), FAILED (refused), PRINT (a letter waiting
-- to be printed and posted).
ALTER TABLE communications
    DROP CONSTRAINT communications_channel_check,
    ADD CONSTRAINT communications_channel_check CHECK (channel IN ('email', 'pec', 'post')),
    DROP CONSTRAINT communications_status_check,
    ADD CONSTRAINT communications_status_check
        CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'UNCONFIRMED', 'FAILED', 'PRINT')),
    DROP CONSTRAINT communications_kind_check,
    ADD CONSTRAINT communications_kind_check
        CHECK (kind IN ('notice', 'notice_change', 'cancellation', 'courtesy', 'sollecito', 'accertamento')),
    ADD COLUMN step         text        NOT NULL DEFAULT '', -- the ladder step, for reminders
    ADD COLUMN sender       text        NOT NULL DEFAULT '',
    ADD COLUMN delivered_at timestamptz,
    ADD COLUMN failure      text        NOT NULL DEFAULT '';
CREATE INDEX communications_sent ON communications (sent_at);
CREATE INDEX communications_created ON communications (created_at);
CREATE INDEX communications_retention ON communications (retention_until);

-- Receipts of a PEC message from the provider: acceptance, delivery, non-delivery.
CREATE TABLE communication_receipts (
    id               bigserial PRIMARY KEY,
    communication_id bigint      NOT NULL REFERENCES communications (id) ON DELETE CASCADE,
    kind             text        NOT NULL CHECK (kind IN ('accettazione', 'avvenuta-consegna', 'mancata-consegna')),
    raw              bytea       NOT NULL,
    sha256           bytea       NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (communication_id, kind, sha256)
);

-- Debts handed over to enforced collection (riscossione coattiva).
CREATE TABLE enforcement_handovers (
    id             bigserial PRIMARY KEY,
    debt_id        bigint      NOT NULL UNIQUE REFERENCES debt_positions (id),
    amount_cents   bigint      NOT NULL CHECK (amount_cents > 0),
    handed_over_at timestamptz NOT NULL DEFAULT now(),
    exported_at    timestamptz
);

-- The archive cannot be altered: what was sent stays as it was sent. Only the delivery state
-- moves forward, and a row goes only when its retention has expired.
-- +goose StatementBegin
CREATE FUNCTION communications_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.retention_until >= current_date THEN
            RAISE EXCEPTION 'communication % is archived until %: it cannot be deleted', OLD.id, OLD.retention_until
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.debt_id, NEW.dedupe_key, NEW.kind, NEW.channel, NEW.recipient, NEW.subject, NEW.message_id,
        NEW.raw, NEW.sha256, NEW.created_at, NEW.retention_until, NEW.step, NEW.sender)
       IS DISTINCT FROM
       (OLD.id, OLD.debt_id, OLD.dedupe_key, OLD.kind, OLD.channel, OLD.recipient, OLD.subject, OLD.message_id,
        OLD.raw, OLD.sha256, OLD.created_at, OLD.retention_until, OLD.step, OLD.sender) THEN
        RAISE EXCEPTION 'communication % is archived: only its delivery state may change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status IN ('SENT', 'UNCONFIRMED', 'FAILED') AND NEW.status <> OLD.status
       AND NOT (OLD.status = 'UNCONFIRMED' AND NEW.status IN ('SENT', 'FAILED')) THEN
        RAISE EXCEPTION 'communication % is % already', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER communications_immutable BEFORE UPDATE OR DELETE ON communications
    FOR EACH ROW EXECUTE FUNCTION communications_immutable();

-- +goose StatementBegin
CREATE FUNCTION communication_receipts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'PEC receipt % is archived: it cannot be changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- Deleted only with its message, when that one's retention has expired.
    IF EXISTS (SELECT 1 FROM communications c WHERE c.id = OLD.communication_id AND c.retention_until >= current_date) THEN
        RAISE EXCEPTION 'PEC receipt % is archived with its message: it cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER communication_receipts_immutable BEFORE UPDATE OR DELETE ON communication_receipts
    FOR EACH ROW EXECUTE FUNCTION communication_receipts_immutable();

-- +goose Down
DROP TRIGGER communication_receipts_immutable ON communication_receipts;
DROP FUNCTION communication_receipts_immutable();
DROP TRIGGER communications_immutable ON communications;
DROP FUNCTION communications_immutable();
DROP TABLE enforcement_handovers;
DROP TABLE communication_receipts;
DROP INDEX communications_retention;
DROP INDEX communications_created;
DROP INDEX communications_sent;
-- The archive is not thrown away to go down: messages the old schema cannot hold stop it.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM communications WHERE channel <> 'email' OR status NOT IN ('PENDING', 'SENT')
               OR kind NOT IN ('notice', 'notice_change', 'cancellation')) THEN
        RAISE EXCEPTION 'reminders, PEC messages or letters are archived: they cannot go down to the old schema';
    END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE communications
    DROP COLUMN failure, DROP COLUMN delivered_at, DROP COLUMN sender, DROP COLUMN step,
    DROP CONSTRAINT communications_kind_check,
    ADD CONSTRAINT communications_kind_check CHECK (kind IN ('notice', 'notice_change', 'cancellation')),
    DROP CONSTRAINT communications_status_check,
    ADD CONSTRAINT communications_status_check CHECK (status IN ('PENDING', 'SENT')),
    DROP CONSTRAINT communications_channel_check,
    ADD CONSTRAINT communications_channel_check CHECK (channel IN ('email'));
ALTER TABLE debt_positions
    DROP COLUMN ladder_step_at, DROP COLUMN ladder_step, DROP COLUMN policy_version, DROP COLUMN debtor_pec;
DROP TABLE escalation_policies;
