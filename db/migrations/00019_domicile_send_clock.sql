-- +goose Up
-- The proof behind an act with legal weight (issue 17): where the debtor's digital domicile was
-- looked up, the SEND notifications of the acts with their legal facts, the return cards of the
-- registered letters, and the legal clock each debt runs on from the perfected notification.

-- One lookup of the debtor's digital domicile per debt and ladder step, kept as proof of the
-- address used: INAD for a natural person, INI-PEC for a company. answer is the registry's exact
-- answer (it holds the fiscal code and the address: personal data, read only by whoever may
-- read the debt), sha256 its hash.
CREATE TABLE domicile_lookups (
    id              bigserial PRIMARY KEY,
    debt_id         bigint      NOT NULL REFERENCES debt_positions (id),
    step            text        NOT NULL,
    registry        text        NOT NULL CHECK (registry IN ('INAD', 'INIPEC')),
    found           boolean     NOT NULL,
    address         text        NOT NULL DEFAULT '' CHECK (found = (address <> '')),
    answer          bytea       NOT NULL,
    sha256          bytea       NOT NULL CHECK (length(sha256) = 32),
    looked_up_at    timestamptz NOT NULL DEFAULT now(),
    retention_until date        NOT NULL,
    UNIQUE (debt_id, step)
);

-- An act notified through SEND (Piattaforma Notifiche): one per debt and step. protocol_number
-- is incasso's paProtocolNumber, the idempotence key SEND knows the request by; request_id the
-- notificationRequestId SEND answered, iun the notification's number once accepted. The act
-- itself is archived here, its exact bytes and hash, as a communication is.
CREATE TABLE send_notifications (
    id              bigserial PRIMARY KEY,
    debt_id         bigint      NOT NULL REFERENCES debt_positions (id),
    step            text        NOT NULL,
    protocol_number text        NOT NULL UNIQUE,
    request_id      text        NOT NULL DEFAULT '',
    iun             text        UNIQUE,
    status          text        NOT NULL DEFAULT 'PREPARED' CHECK (status IN ('PREPARED', 'REQUESTED', 'REFUSED', 'IN_VALIDATION',
        'ACCEPTED', 'DELIVERING', 'DELIVERED', 'VIEWED', 'EFFECTIVE_DATE', 'PAID', 'UNREACHABLE', 'CANCELLED', 'RETURNED_TO_SENDER')),
    timeline        jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(timeline) = 'array'),
    perfected_at    timestamptz,
    act             bytea       NOT NULL,
    act_sha256      bytea       NOT NULL CHECK (length(act_sha256) = 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    retention_until date        NOT NULL,
    UNIQUE (debt_id, step)
);

-- The legal facts (attestazioni opponibili a terzi) SEND issued for a notification, downloaded
-- and archived: exact bytes and hash, kept as long as the messages are.
CREATE TABLE legal_facts (
    id              bigserial PRIMARY KEY,
    notification_id bigint      NOT NULL REFERENCES send_notifications (id),
    legal_fact_key  text        NOT NULL,
    category        text        NOT NULL,
    filename        text        NOT NULL,
    content         bytea       NOT NULL,
    sha256          bytea       NOT NULL CHECK (length(sha256) = 32),
    downloaded_at   timestamptz NOT NULL DEFAULT now(),
    retention_until date        NOT NULL,
    UNIQUE (notification_id, legal_fact_key)
);

-- The return card (cartolina di ritorno) of a registered letter, entered by an operator: the
-- letter was delivered on that date, or came back undelivered. One per letter, never changed.
CREATE TABLE return_cards (
    id               bigserial PRIMARY KEY,
    communication_id bigint      NOT NULL UNIQUE REFERENCES communications (id),
    outcome          text        NOT NULL CHECK (outcome IN ('delivered', 'returned')),
    card_date        date        NOT NULL,
    entered_by       text        NOT NULL,
    entered_at       timestamptz NOT NULL DEFAULT now()
);

-- The legal clock of a debt whose act was notified: how it was perfected (send, pec, or
-- return_card) and when, the last day to pay or appeal, and the first day of the hand-over to
-- enforced collection. Empty until the proof is there; failed says the act never reached the
-- debtor (SEND unreachable or returned, the letter returned): no hand-over then.
ALTER TABLE debt_positions
    ADD COLUMN notified_by   text NOT NULL DEFAULT '' CHECK (notified_by IN ('', 'send', 'pec', 'return_card')),
    ADD COLUMN notified_at   timestamptz,
    ADD COLUMN pay_by        date,
    ADD COLUMN handover_from date,
    ADD COLUMN notice_failed text NOT NULL DEFAULT '',
    ADD CONSTRAINT legal_clock_whole CHECK ((notified_by = '') = (notified_at IS NULL) AND
        (notified_at IS NULL) = (pay_by IS NULL) AND (pay_by IS NULL) = (handover_from IS NULL));

-- Proof is archived: a lookup, an act or a legal fact is never changed, and deleted only once
-- its retention has ended; a notification's delivery state moves on.
-- +goose StatementBegin
CREATE FUNCTION legal_proof_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.retention_until >= current_date THEN
            RAISE EXCEPTION '% % is archived until %: it cannot be deleted', TG_TABLE_NAME, OLD.id, OLD.retention_until
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF TG_TABLE_NAME = 'send_notifications' THEN
        IF (NEW.id, NEW.debt_id, NEW.step, NEW.protocol_number, NEW.act, NEW.act_sha256, NEW.created_at, NEW.retention_until)
           IS DISTINCT FROM
           (OLD.id, OLD.debt_id, OLD.step, OLD.protocol_number, OLD.act, OLD.act_sha256, OLD.created_at, OLD.retention_until) THEN
            RAISE EXCEPTION 'SEND notification % is archived: only its delivery state may change', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% % is archived: it cannot be changed', TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER domicile_lookups_immutable BEFORE UPDATE OR DELETE ON domicile_lookups
    FOR EACH ROW EXECUTE FUNCTION legal_proof_immutable();
CREATE TRIGGER send_notifications_immutable BEFORE UPDATE OR DELETE ON send_notifications
    FOR EACH ROW EXECUTE FUNCTION legal_proof_immutable();
CREATE TRIGGER legal_facts_immutable BEFORE UPDATE OR DELETE ON legal_facts
    FOR EACH ROW EXECUTE FUNCTION legal_proof_immutable();

-- +goose Down
DROP TRIGGER legal_facts_immutable ON legal_facts;
DROP TRIGGER send_notifications_immutable ON send_notifications;
DROP TRIGGER domicile_lookups_immutable ON domicile_lookups;
DROP FUNCTION legal_proof_immutable();
ALTER TABLE debt_positions
    DROP CONSTRAINT legal_clock_whole,
    DROP COLUMN notified_by, DROP COLUMN notified_at, DROP COLUMN pay_by, DROP COLUMN handover_from,
    DROP COLUMN notice_failed;
DROP TABLE return_cards;
DROP TABLE legal_facts;
DROP TABLE send_notifications;
DROP TABLE domicile_lookups;
