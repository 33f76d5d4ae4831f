-- +goose Up
-- Reporting flows (flussi di rendicontazione, FdR) as the PSPs publish them through pagoPA's FdR
-- API: one row per flow and revision, kept forever. A later revision replaces the earlier one
-- (SUPERSEDED, its lines kept for the record). A flow that cannot be read is kept MALFORMED with
-- the reason, and the others go on. raw_json is the flow as received (its header), raw_sha256 the
-- hash of the header and every page of its payments as received.
CREATE TABLE fdr_flows (
    id                   bigserial PRIMARY KEY,
    flow_id              text        NOT NULL CHECK (length(flow_id) BETWEEN 1 AND 35),
    revision             int         NOT NULL CHECK (revision >= 1),
    psp_id               text        NOT NULL CHECK (length(psp_id) BETWEEN 1 AND 35),
    ec_fiscal_code       text        NOT NULL,
    flow_date            date,                       -- fdrDate, in Rome
    published_at         timestamptz,
    regulation           text        NOT NULL DEFAULT '', -- the credit transfer's reference
    regulation_date      date,
    bic                  text        NOT NULL DEFAULT '',
    declared_payments    bigint,                     -- totPayments
    declared_sum_cents   bigint,                     -- sumPayments
    payments             bigint      NOT NULL DEFAULT 0, -- lines stored
    sum_cents            bigint      NOT NULL DEFAULT 0, -- their sum
    status               text        NOT NULL CHECK (status IN ('MATCHED', 'SUPERSEDED', 'MALFORMED')),
    malformed_reason     text        CHECK (length(malformed_reason) BETWEEN 1 AND 500),
    raw_json             text        NOT NULL,
    raw_sha256           text        NOT NULL CHECK (raw_sha256 ~ '^[0-9a-f]{64}$'),
    received_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (flow_id, revision),
    CONSTRAINT malformed_has_reason CHECK ((status = 'MALFORMED') = (malformed_reason IS NOT NULL))
);
CREATE INDEX fdr_flows_date ON fdr_flows (flow_date, psp_id);

-- One line per payment of a flow, as reported, and how it matched its receipt (by IUV + IUR +
-- transfer index). pay_status is the spec's payStatus, outcome_code its codiceEsitoSingoloPagamento
-- (0 EXECUTED, 3 REVOKED, 4 STAND_IN, 8 STAND_IN_NO_RPT, 9 NO_RPT).
CREATE TABLE fdr_flow_lines (
    id             bigserial PRIMARY KEY,
    flow_id        bigint      NOT NULL REFERENCES fdr_flows (id),
    line_index     bigint      NOT NULL CHECK (line_index >= 1),
    iuv            text        NOT NULL CHECK (length(iuv) BETWEEN 1 AND 35),
    iur            text        NOT NULL CHECK (length(iur) BETWEEN 1 AND 35),
    transfer_index smallint    NOT NULL CHECK (transfer_index BETWEEN 1 AND 5),
    amount_cents   bigint      NOT NULL,
    pay_status     text        NOT NULL CHECK (pay_status IN ('EXECUTED', 'REVOKED', 'STAND_IN', 'STAND_IN_NO_RPT', 'NO_RPT')),
    outcome_code   smallint    NOT NULL CHECK (outcome_code IN (0, 3, 4, 8, 9)),
    pay_date       timestamptz,
    receipt_id     bigint      REFERENCES receipts (id),
    expected_cents bigint,     -- the receipt's transfer amount, when matched
    match          text        NOT NULL DEFAULT 'PENDING'
                   CHECK (match IN ('PENDING', 'MATCHED', 'NO_RECEIPT', 'AMOUNT_DIFFERS', 'REVOKED', 'NO_RPT')),
    UNIQUE (flow_id, line_index)
);
CREATE INDEX fdr_flow_lines_receipt ON fdr_flow_lines (receipt_id) WHERE receipt_id IS NOT NULL;
CREATE INDEX fdr_flow_lines_unmatched ON fdr_flow_lines (flow_id) WHERE match <> 'MATCHED';

-- One reconciliation state per receipt paid (outcome OK): UNMATCHED until a flow line reports it,
-- MATCHED_FLOW when one does, RECONCILED when the treasury's credit of that flow is matched too,
-- DIFFERENCE when something disagrees (reason: the difference's code, listed in
-- reconciliation_differences). Every OK receipt gets its row when it is recorded.
CREATE TABLE receipt_reconciliation (
    receipt_id     bigint      PRIMARY KEY REFERENCES receipts (id),
    status         text        NOT NULL DEFAULT 'UNMATCHED'
                   CHECK (status IN ('UNMATCHED', 'MATCHED_FLOW', 'RECONCILED', 'DIFFERENCE')),
    reason         text,
    flow_line_id   bigint      REFERENCES fdr_flow_lines (id),
    matched_at     timestamptz,
    reconciled_at  timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT difference_has_reason CHECK ((status = 'DIFFERENCE') = (reason IS NOT NULL)),
    CONSTRAINT matched_has_line CHECK (status NOT IN ('MATCHED_FLOW', 'RECONCILED') OR flow_line_id IS NOT NULL)
);
CREATE INDEX receipt_reconciliation_open ON receipt_reconciliation (status) WHERE status IN ('UNMATCHED', 'DIFFERENCE');

INSERT INTO receipt_reconciliation (receipt_id) SELECT id FROM receipts WHERE outcome = 'OK';
-- +goose StatementBegin
CREATE FUNCTION open_receipt_reconciliation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO receipt_reconciliation (receipt_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER receipts_reconciliation AFTER INSERT ON receipts
    FOR EACH ROW WHEN (NEW.outcome = 'OK') EXECUTE FUNCTION open_receipt_reconciliation();

-- Every difference the finance office must look at, once per reason and subject (the natural
-- key: 'receipt:<receipts.id>', 'line:<flow id>/<revision>/<index>', 'flow:<flow id>/<revision>',
-- and the treasury's own), with its resolution. A difference is resolved by a finance user with
-- a reason (ACCEPTED, REFUND_REQUESTED, WRITTEN_OFF), or closed by incasso (SUPERSEDED) when a
-- later revision or a late flow line settles it. Never deleted.
CREATE TABLE reconciliation_differences (
    id                bigserial   PRIMARY KEY,
    reason            text        NOT NULL CHECK (reason ~ '^[A-Z][A-Z_]{2,39}$'),
    subject           text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    receipt_id        bigint      REFERENCES receipts (id),
    fdr_flow_id       bigint      REFERENCES fdr_flows (id),
    flow_line_id      bigint      REFERENCES fdr_flow_lines (id),
    expected_cents    bigint,
    reported_cents    bigint,
    detail            text        NOT NULL DEFAULT '' CHECK (length(detail) <= 500),
    detected_on       date        NOT NULL,
    detected_at       timestamptz NOT NULL DEFAULT now(),
    resolution        text        CHECK (resolution IN ('ACCEPTED', 'REFUND_REQUESTED', 'WRITTEN_OFF', 'SUPERSEDED')),
    resolved_by       text,
    resolution_reason text        CHECK (length(resolution_reason) BETWEEN 1 AND 500),
    resolved_at       timestamptz,
    UNIQUE (reason, subject),
    CONSTRAINT resolution_complete CHECK ((resolution IS NULL) = (resolved_by IS NULL)
        AND (resolution IS NULL) = (resolution_reason IS NULL) AND (resolution IS NULL) = (resolved_at IS NULL))
);
CREATE INDEX reconciliation_differences_open ON reconciliation_differences (id) WHERE resolution IS NULL;
CREATE INDEX reconciliation_differences_receipt ON reconciliation_differences (receipt_id) WHERE receipt_id IS NOT NULL;

-- +goose Down
DROP TABLE reconciliation_differences;
DROP TRIGGER receipts_reconciliation ON receipts;
DROP FUNCTION open_receipt_reconciliation();
DROP TABLE receipt_reconciliation;
DROP TABLE fdr_flow_lines;
DROP TABLE fdr_flows;
