-- +goose Up
-- Clients of the REST API. Keys are stored only as their SHA-256.
CREATE TABLE api_clients (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    key_sha256  bytea       NOT NULL UNIQUE CHECK (length(key_sha256) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- IUV bases are drawn from here: never reused, gaps allowed.
CREATE SEQUENCE iuv_base_seq MINVALUE 1 MAXVALUE 9999999999999 NO CYCLE;

-- One row per credit position (posizione debitoria) of the comune, whatever the service.
CREATE TABLE debt_positions (
    id                 bigserial PRIMARY KEY,
    ec_fiscal_code     text        NOT NULL CHECK (ec_fiscal_code ~ '^[0-9]{11}$'),
    iupd               text        NOT NULL,
    service_code       text        NOT NULL,
    debtor_type        char(1)     NOT NULL CHECK (debtor_type IN ('F', 'G')),
    debtor_fiscal_code text        NOT NULL,
    debtor_name        text        NOT NULL,
    debtor_email       text        NOT NULL,
    amount_cents       bigint      NOT NULL CHECK (amount_cents > 0),
    due_date           date        NOT NULL,
    description        text        NOT NULL CHECK (length(description) BETWEEN 1 AND 140),
    nav                text        NOT NULL UNIQUE CHECK (nav ~ '^3[0-9]{17}$'),
    status             text        NOT NULL DEFAULT 'CREATED'
                                   CHECK (status IN ('CREATED', 'ISSUED', 'OVERDUE', 'PAID', 'CANCELLED')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    paid_at            timestamptz,
    UNIQUE (ec_fiscal_code, iupd)
);
CREATE INDEX debt_positions_debtor ON debt_positions (debtor_fiscal_code);

-- Receipts (RT) as pagoPA sends them; a receipt id is recorded once, forever.
CREATE TABLE receipts (
    id               bigserial PRIMARY KEY,
    receipt_id       text        NOT NULL UNIQUE,
    debt_id          bigint      NOT NULL REFERENCES debt_positions (id),
    nav              text        NOT NULL,
    amount_cents     bigint      NOT NULL,
    outcome          text        NOT NULL,
    psp_id           text        NOT NULL,
    psp_name         text        NOT NULL,
    channel_id       text        NOT NULL,
    payment_method   text        NOT NULL DEFAULT '',
    fee_cents        bigint,
    paid_at          timestamptz,
    raw_xml          text        NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receipts_debt ON receipts (debt_id);

-- Documents produced for a debt (the notice PDF), kept with their hash.
CREATE TABLE documents (
    id           bigserial PRIMARY KEY,
    debt_id      bigint      NOT NULL REFERENCES debt_positions (id),
    kind         text        NOT NULL,
    filename     text        NOT NULL,
    content_type text        NOT NULL,
    content      bytea       NOT NULL,
    sha256       bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (debt_id, kind)
);

-- Every message sent to a citizen, with the exact bytes and their hash.
CREATE TABLE communications (
    id              bigserial PRIMARY KEY,
    debt_id         bigint      NOT NULL REFERENCES debt_positions (id),
    dedupe_key      text        NOT NULL UNIQUE,
    channel         text        NOT NULL CHECK (channel IN ('email')),
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    message_id      text        NOT NULL UNIQUE,
    raw             bytea       NOT NULL,
    sha256          bytea       NOT NULL,
    status          text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    retention_until date        NOT NULL
);
CREATE INDEX communications_debt ON communications (debt_id);

-- +goose Down
DROP TABLE communications;
DROP TABLE documents;
DROP TABLE receipts;
DROP TABLE debt_positions;
DROP SEQUENCE iuv_base_seq;
DROP TABLE api_clients;
