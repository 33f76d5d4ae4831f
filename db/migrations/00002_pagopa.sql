-- +goose Up
-- IUV bases come from one sequence per EC and segregation code, created on first use.
-- Sequences never hand out a value twice and tolerate gaps (a rolled-back insert loses one).
-- +goose StatementBegin
CREATE FUNCTION next_iuv_base(ec text, segregation int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seq text;
BEGIN
    IF ec IS NULL OR ec !~ '^[0-9]{11}$' OR segregation IS NULL OR segregation NOT BETWEEN 0 AND 99 THEN
        RAISE EXCEPTION 'next_iuv_base: want an 11-digit EC fiscal code and a segregation code 0..99';
    END IF;
    seq := format('iuv_base_%s_%s', ec, lpad(segregation::text, 2, '0'));
    BEGIN
        RETURN nextval(seq);
    EXCEPTION WHEN undefined_table THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I MINVALUE 1 MAXVALUE 9999999999999 NO CYCLE', seq);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL; -- another transaction created it first
        END;
        RETURN nextval(seq);
    END;
END
$$;
-- +goose StatementEnd

-- The skeleton drew every base from iuv_base_seq: each EC and segregation code already in use
-- continues after the largest base it has.
-- +goose StatementBegin
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT ec_fiscal_code, substr(nav, 2, 2)::int AS seg, max(substr(nav, 4, 13)::bigint) AS last_base
        FROM debt_positions GROUP BY 1, 2
    LOOP
        EXECUTE format('CREATE SEQUENCE %I MINVALUE 1 MAXVALUE 9999999999999 NO CYCLE START %s',
                       format('iuv_base_%s_%s', r.ec_fiscal_code, lpad(r.seg::text, 2, '0')), r.last_base + 1);
    END LOOP;
END
$$;
-- +goose StatementEnd
DROP SEQUENCE iuv_base_seq;

-- Cancellation and changes. Every change of amount or due date is a new revision of the
-- notice, kept with its reason. A debt cancelled before reasons were kept gets one saying so.
ALTER TABLE debt_positions
    ADD COLUMN cancel_reason      text        CHECK (length(cancel_reason) BETWEEN 1 AND 500),
    ADD COLUMN cancelled_at       timestamptz;
UPDATE debt_positions SET cancel_reason = 'cancelled before incasso recorded reasons', cancelled_at = updated_at
WHERE status = 'CANCELLED';
ALTER TABLE debt_positions
    ADD COLUMN revision           int         NOT NULL DEFAULT 1 CHECK (revision >= 1),
    ADD COLUMN receipt_checked_at timestamptz, -- last time the recovery job asked GPD for a receipt
    ADD CONSTRAINT cancelled_has_reason CHECK ((status = 'CANCELLED') = (cancel_reason IS NOT NULL AND cancelled_at IS NOT NULL));
CREATE INDEX debt_positions_unpaid ON debt_positions (receipt_checked_at NULLS FIRST, id)
    WHERE status IN ('ISSUED', 'OVERDUE');

CREATE TABLE debt_changes (
    id           bigserial PRIMARY KEY,
    debt_id      bigint      NOT NULL REFERENCES debt_positions (id),
    revision     int         NOT NULL CHECK (revision >= 2),
    amount_cents bigint      NOT NULL CHECK (amount_cents > 0),
    due_date     date        NOT NULL,
    reason       text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    changed_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (debt_id, revision)
);

-- Receipts keep everything pagoPA sends. One that does not match its debt is kept and flagged
-- for the finance office, never silently accepted.
ALTER TABLE receipts
    ALTER COLUMN debt_id DROP NOT NULL,
    ADD COLUMN ec_fiscal_code      text  NOT NULL DEFAULT '',
    ADD COLUMN psp_fiscal_code     text  NOT NULL DEFAULT '',
    ADD COLUMN channel_description text  NOT NULL DEFAULT '',
    ADD COLUMN application_date    date,
    ADD COLUMN transfer_date       date,
    ADD COLUMN transfers           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN source              text  NOT NULL DEFAULT 'PUSH' CHECK (source IN ('PUSH', 'RECOVERY')),
    ADD COLUMN flag                text  CHECK (flag IN ('UNKNOWN_NOTICE', 'AMOUNT_MISMATCH', 'DOUBLE_PAYMENT', 'PAID_AFTER_CANCEL')),
    ADD COLUMN flag_detail         text  NOT NULL DEFAULT '',
    ADD CONSTRAINT unknown_notice_has_no_debt CHECK ((debt_id IS NULL) = (flag IS NOT DISTINCT FROM 'UNKNOWN_NOTICE'));
CREATE INDEX receipts_flagged ON receipts (id) WHERE flag IS NOT NULL;

-- A notice document per revision.
ALTER TABLE documents
    ADD COLUMN revision int NOT NULL DEFAULT 1,
    DROP CONSTRAINT documents_debt_id_kind_key,
    ADD CONSTRAINT documents_debt_kind_revision UNIQUE (debt_id, kind, revision);

ALTER TABLE communications
    ADD COLUMN kind text NOT NULL DEFAULT 'notice' CHECK (kind IN ('notice', 'notice_change', 'cancellation'));

-- +goose Down
-- Receipts of unknown notices are money to refund: going down must not lose them.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM receipts WHERE debt_id IS NULL) THEN
        RAISE EXCEPTION 'receipts of unknown notices exist: settle them before migrating down';
    END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE communications DROP COLUMN kind;
-- Only the latest revision of each document survives.
DELETE FROM documents d USING documents newer
WHERE newer.debt_id = d.debt_id AND newer.kind = d.kind AND newer.revision > d.revision;
ALTER TABLE documents DROP CONSTRAINT documents_debt_kind_revision, DROP COLUMN revision,
    ADD CONSTRAINT documents_debt_id_kind_key UNIQUE (debt_id, kind);
DROP INDEX receipts_flagged;
ALTER TABLE receipts DROP CONSTRAINT unknown_notice_has_no_debt,
    DROP COLUMN flag_detail, DROP COLUMN flag, DROP COLUMN source, DROP COLUMN transfers,
    DROP COLUMN transfer_date, DROP COLUMN application_date, DROP COLUMN channel_description,
    DROP COLUMN psp_fiscal_code, DROP COLUMN ec_fiscal_code,
    ALTER COLUMN debt_id SET NOT NULL;
DROP TABLE debt_changes;
DROP INDEX debt_positions_unpaid;
ALTER TABLE debt_positions DROP CONSTRAINT cancelled_has_reason, DROP COLUMN receipt_checked_at,
    DROP COLUMN cancelled_at, DROP COLUMN cancel_reason, DROP COLUMN revision;
-- +goose StatementBegin
DO $$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT sequencename FROM pg_sequences WHERE sequencename ~ '^iuv_base_[0-9]{11}_[0-9]{2}$' LOOP
        EXECUTE format('DROP SEQUENCE %I', s);
    END LOOP;
END
$$;
-- +goose StatementEnd
CREATE SEQUENCE iuv_base_seq MINVALUE 1 MAXVALUE 9999999999999 NO CYCLE;
SELECT setval('iuv_base_seq', coalesce((SELECT max(substr(nav, 4, 13)::bigint) FROM debt_positions), 1));
DROP FUNCTION next_iuv_base(text, int);
