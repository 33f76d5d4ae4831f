-- +goose Up
-- Instalment plans collected only by SEPA Direct Debit (SDD Core), and the files and reports
-- exchanged with the bank.

-- A debt paid in instalments is INSTALMENTS while its plan runs, and SUPERSEDED when the plan
-- ended without collecting everything (decadenza, or a missed instalment) and what is still
-- owed became a new debt with a pagoPA notice of its own.
ALTER TABLE debt_positions
    DROP CONSTRAINT debt_positions_status_check,
    ADD CONSTRAINT debt_positions_status_check
        CHECK (status IN ('CREATED', 'ISSUED', 'OVERDUE', 'INSTALMENTS', 'PAID', 'CANCELLED', 'SUPERSEDED'));

-- Messages about instalments are archived like every other message.
ALTER TABLE communications
    DROP CONSTRAINT communications_kind_check,
    ADD CONSTRAINT communications_kind_check
        CHECK (kind IN ('notice', 'notice_change', 'cancellation', 'courtesy', 'sollecito', 'accertamento',
                        'plan_confirmation', 'sdd_prenotification', 'instalment_sollecito', 'plan_end'));

-- A SEPA Core mandate the debtor signed. Replacing it (a new IBAN) adds a new row.
CREATE TABLE sdd_mandates (
    id          bigserial PRIMARY KEY,
    debt_id     bigint      NOT NULL REFERENCES debt_positions (id), -- the debt it was signed for
    reference   text        NOT NULL UNIQUE CHECK (reference ~ '^[A-Za-z0-9/?:().,''+-]{1,35}$'),
    debtor_name text        NOT NULL CHECK (length(debtor_name) BETWEEN 1 AND 70),
    iban        text        NOT NULL CHECK (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'),
    bic         text        NOT NULL DEFAULT '' CHECK (bic = '' OR bic ~ '^[A-Z0-9]{8}([A-Z0-9]{3})?$'),
    signed_on   date        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- At most one plan per debt. request_sha256 makes a repeated request find the same plan.
CREATE TABLE instalment_plans (
    id                bigserial PRIMARY KEY,
    debt_id           bigint      NOT NULL UNIQUE REFERENCES debt_positions (id),
    mandate_id        bigint      NOT NULL REFERENCES sdd_mandates (id),
    status            text        NOT NULL DEFAULT 'ACTIVE'
                                  CHECK (status IN ('ACTIVE', 'SUSPENDED', 'COMPLETED', 'FORFEITED')),
    instalments       int         NOT NULL CHECK (instalments BETWEEN 2 AND 36),
    interest_bp       int         NOT NULL DEFAULT 0 CHECK (interest_bp BETWEEN 0 AND 10000),
    request_sha256    bytea       NOT NULL,
    remainder_cents   bigint      CHECK (remainder_cents >= 0),
    remainder_debt_id bigint      REFERENCES debt_positions (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    ended_at          timestamptz
);

-- The instalments of a plan, each a partial payment option of the debt's pagoPA position.
CREATE TABLE instalments (
    plan_id     bigint      NOT NULL REFERENCES instalment_plans (id),
    seq         int         NOT NULL CHECK (seq BETWEEN 1 AND 36),
    amount_cents bigint     NOT NULL CHECK (amount_cents > 0),
    due_date    date        NOT NULL,
    nav         text        NOT NULL UNIQUE CHECK (nav ~ '^3[0-9]{17}$'),
    status      text        NOT NULL DEFAULT 'PLANNED'
                            CHECK (status IN ('PLANNED', 'SUBMITTED', 'COLLECTED', 'PAID', 'MISSED', 'HELD')),
    reason_code text        NOT NULL DEFAULT '',
    paid_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, seq)
);

-- One collection run per creditor account and collection date: one pain.008 file.
CREATE TABLE sdd_runs (
    id              bigserial PRIMARY KEY,
    account         text        NOT NULL CHECK (account ~ '^[a-z0-9][a-z0-9_-]{0,30}$'),
    collection_date date        NOT NULL,
    status          text        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'SUBMITTED', 'REPORTED', 'EMPTY')),
    msg_id          text        UNIQUE,
    transactions    int         NOT NULL DEFAULT 0,
    ctrl_sum_cents  bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    submitted_at    timestamptz,
    reported_at     timestamptz,
    UNIQUE (account, collection_date)
);

-- Every presentation of an instalment to the bank; a re-presentation is a new row with a new
-- EndToEndId. The mandate and sequence type are fixed when the file is written.
CREATE TABLE sdd_collections (
    id            bigserial PRIMARY KEY,
    end_to_end_id text        NOT NULL UNIQUE CHECK (end_to_end_id ~ '^[A-Za-z0-9-]{1,35}$'),
    plan_id       bigint      NOT NULL,
    seq           int         NOT NULL,
    attempt       int         NOT NULL CHECK (attempt >= 1),
    run_id        bigint      NOT NULL REFERENCES sdd_runs (id),
    amount_cents  bigint      NOT NULL CHECK (amount_cents > 0),
    mandate_id    bigint      REFERENCES sdd_mandates (id),
    sequence_type text        CHECK (sequence_type IN ('FRST', 'RCUR')),
    status        text        NOT NULL DEFAULT 'PENDING'
                              CHECK (status IN ('PENDING', 'SUBMITTED', 'ACCEPTED', 'REJECTED', 'RETURNED', 'REFUNDED', 'WITHDRAWN')),
    reason_code   text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (plan_id, seq) REFERENCES instalments (plan_id, seq),
    UNIQUE (plan_id, seq, attempt)
);
CREATE INDEX sdd_collections_run ON sdd_collections (run_id, status);

-- Every file sent to the bank and every report received, gzipped, with its message id: a
-- message id is used once, forever.
CREATE TABLE sdd_messages (
    id         bigserial PRIMARY KEY,
    direction  text        NOT NULL CHECK (direction IN ('OUT', 'IN')),
    msg_type   text        NOT NULL CHECK (msg_type IN ('pain.008', 'pain.002', 'camt.054')),
    msg_id     text        NOT NULL CHECK (length(msg_id) BETWEEN 1 AND 35),
    run_id     bigint      REFERENCES sdd_runs (id),
    content_gz bytea       NOT NULL,
    sha256     bytea       NOT NULL CHECK (length(sha256) = 32),
    size_bytes bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (direction, msg_id)
);

-- Where the reading of the bank's notifications (camt.054) has got to.
CREATE TABLE sdd_cursors (
    name       text        PRIMARY KEY,
    position   text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
-- Plans and their archived messages are not thrown away to go down: they stop it.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM instalment_plans) THEN
        RAISE EXCEPTION 'instalment plans exist: they cannot go down to the old schema';
    END IF;
END
$$;
-- +goose StatementEnd
DROP TABLE sdd_cursors;
DROP TABLE sdd_messages;
DROP TABLE sdd_collections;
DROP TABLE sdd_runs;
DROP TABLE instalments;
DROP TABLE instalment_plans;
DROP TABLE sdd_mandates;
ALTER TABLE communications
    DROP CONSTRAINT communications_kind_check,
    ADD CONSTRAINT communications_kind_check
        CHECK (kind IN ('notice', 'notice_change', 'cancellation', 'courtesy', 'sollecito', 'accertamento'));
ALTER TABLE debt_positions
    DROP CONSTRAINT debt_positions_status_check,
    ADD CONSTRAINT debt_positions_status_check
        CHECK (status IN ('CREATED', 'ISSUED', 'OVERDUE', 'PAID', 'CANCELLED'));
