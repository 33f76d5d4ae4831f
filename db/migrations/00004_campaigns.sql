-- +goose Up
-- Collection campaigns: a file of debts the finance office imports, checks and launches.
CREATE TABLE campaigns (
    id              bigserial PRIMARY KEY,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status          text        NOT NULL DEFAULT 'READY'
                                CHECK (status IN ('READY', 'RUNNING', 'PAUSED', 'CANCELLED', 'COMPLETED', 'WITHDRAWN')),
    source_filename text        NOT NULL DEFAULT '',
    source_sha256   bytea       NOT NULL,
    rows_total      int         NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
    rows_rejected   int         NOT NULL DEFAULT 0 CHECK (rows_rejected >= 0), -- left out by "valid rows only"
    start_rate      int         NOT NULL DEFAULT 20 CHECK (start_rate BETWEEN 1 AND 1000), -- debts started per second
    created_by      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    launched_at     timestamptz,
    finished_at     timestamptz,
    withdraw_reason text CHECK (length(withdraw_reason) BETWEEN 1 AND 500),
    CONSTRAINT withdrawn_has_reason CHECK ((status = 'WITHDRAWN') = (withdraw_reason IS NOT NULL))
);

-- The valid rows of a campaign's file, as imported; debt_id is set once the debt exists.
CREATE TABLE campaign_rows (
    campaign_id        bigint  NOT NULL REFERENCES campaigns (id),
    row_no             int     NOT NULL CHECK (row_no >= 1), -- the line in the file
    iupd               text    NOT NULL,
    service_code       text    NOT NULL,
    debtor_type        char(1) NOT NULL CHECK (debtor_type IN ('F', 'G')),
    debtor_fiscal_code text    NOT NULL,
    debtor_name        text    NOT NULL,
    debtor_email       text    NOT NULL,
    debtor_pec         text    NOT NULL DEFAULT '',
    amount_cents       bigint  NOT NULL CHECK (amount_cents > 0),
    due_date           date    NOT NULL,
    description        text    NOT NULL,
    debt_id            bigint  REFERENCES debt_positions (id),
    error              text    NOT NULL DEFAULT '', -- why the row could not become a debt at launch
    PRIMARY KEY (campaign_id, row_no),
    UNIQUE (campaign_id, iupd)
);

ALTER TABLE debt_positions ADD COLUMN campaign_id bigint REFERENCES campaigns (id);
CREATE INDEX debt_positions_campaign ON debt_positions (campaign_id, status) WHERE campaign_id IS NOT NULL;

-- +goose Down
DROP INDEX debt_positions_campaign;
ALTER TABLE debt_positions DROP COLUMN campaign_id;
DROP TABLE campaign_rows;
DROP TABLE campaigns;
