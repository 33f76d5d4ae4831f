-- +goose Up
-- The treasury account's statements (camt.053) as the bank sent them: one row per MsgId, kept
-- forever with the raw XML and its SHA-256 (the same MsgId with another hash is refused),
-- unaltered and undeletable (trigger).
CREATE TABLE treasury_statements (
    id             bigserial PRIMARY KEY,
    msg_id         text        NOT NULL UNIQUE CHECK (length(msg_id) BETWEEN 1 AND 35),
    statement_ref  text        NOT NULL CHECK (length(statement_ref) BETWEEN 1 AND 35),
    statement_date date        NOT NULL,
    opening_cents  bigint      NOT NULL,
    closing_cents  bigint      NOT NULL,
    entries        int         NOT NULL CHECK (entries >= 0),
    raw_xml        bytea       NOT NULL,
    raw_sha256     bytea       NOT NULL CHECK (length(raw_sha256) = 32),
    received_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX treasury_statements_date ON treasury_statements (statement_date);
-- +goose StatementBegin
CREATE FUNCTION treasury_statements_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'treasury statements are kept as the bank sent them: % refused', TG_OP;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER treasury_statements_kept BEFORE UPDATE OR DELETE ON treasury_statements
    FOR EACH ROW EXECUTE FUNCTION treasury_statements_kept();

-- Every booked entry of a statement (the bank's reference is unique in it), what kind it is and
-- how it matched: a flow's credit against the flow of its /PUR/LGPE-RIVERSAMENTO/URI/ reference,
-- an SDD booking against its collection run (the run's control sum minus its rejects), a return
-- against its collections. What does not match becomes a difference of
-- reconciliation_differences (00015) once its grace has passed: CREDIT_WITHOUT_FLOW,
-- CREDIT_AMOUNT_DIFFERS, CREDIT_SPLIT (subject 'credit:<flow id>'), FLOW_WITHOUT_CREDIT
-- ('flow:<flow id>/<revision>'), SDD_BOOKING_DIFFERS ('sdd:<file MsgId>'). The IBAN of the account is not kept here: the raw statement has it.
CREATE TABLE treasury_entries (
    id             bigserial PRIMARY KEY,
    statement_id   bigint      NOT NULL REFERENCES treasury_statements (id),
    ref            text        NOT NULL CHECK (length(ref) BETWEEN 1 AND 35),
    kind           text        NOT NULL CHECK (kind IN ('FLOW_CREDIT', 'SDD_BATCH', 'SDD_RETURN', 'OTHER')),
    amount_cents   bigint      NOT NULL CHECK (amount_cents > 0),
    credit         boolean     NOT NULL,
    booking_date   date        NOT NULL,
    flow_id        text        CHECK (length(flow_id) BETWEEN 1 AND 35),
    batch_msg_id   text        CHECK (length(batch_msg_id) BETWEEN 1 AND 35),
    end_to_end_ids text[]      NOT NULL DEFAULT '{}',
    run_id         bigint      REFERENCES sdd_runs (id),
    fdr_flow_id    bigint      REFERENCES fdr_flows (id), -- the revision of the flow it matched
    match          text        NOT NULL DEFAULT 'PENDING'
                   CHECK (match IN ('PENDING', 'MATCHED', 'AMOUNT_DIFFERS', 'UNKNOWN_RUN', 'UNKNOWN_COLLECTION', 'UNKNOWN_FLOW', 'NOT_RECONCILED')),
    expected_cents bigint,
    matched_at     timestamptz,
    UNIQUE (statement_id, ref),
    CONSTRAINT flow_credit_has_flow CHECK ((kind = 'FLOW_CREDIT') = (flow_id IS NOT NULL)),
    CONSTRAINT sdd_batch_has_file CHECK ((kind = 'SDD_BATCH') = (batch_msg_id IS NOT NULL))
);
CREATE INDEX treasury_entries_flow ON treasury_entries (flow_id) WHERE flow_id IS NOT NULL;
CREATE INDEX treasury_entries_batch ON treasury_entries (batch_msg_id) WHERE batch_msg_id IS NOT NULL;
CREATE INDEX treasury_entries_open ON treasury_entries (booking_date) WHERE match NOT IN ('MATCHED', 'NOT_RECONCILED');

-- +goose Down
DROP TABLE treasury_entries;
DROP TABLE treasury_statements;
DROP FUNCTION treasury_statements_kept();
