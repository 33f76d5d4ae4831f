-- +goose Up
-- A receipt for less than its debt asks is kept and flagged UNDERPAID; the debt stays open.
-- AMOUNT_MISMATCH now means paid more than asked (the debt is settled, the excess refunded).
ALTER TABLE receipts DROP CONSTRAINT receipts_flag_check,
    ADD CONSTRAINT receipts_flag_check
    CHECK (flag IN ('UNKNOWN_NOTICE', 'AMOUNT_MISMATCH', 'UNDERPAID', 'DOUBLE_PAYMENT', 'PAID_AFTER_CANCEL'));

-- When the debt's workflow acknowledged that the debt is paid. A debt PAID in the database
-- and not acknowledged some time after its payment lost the signal to its workflow: the
-- recovery job's sweep signals it again.
ALTER TABLE debt_positions ADD COLUMN paid_acknowledged_at timestamptz;
UPDATE debt_positions SET paid_acknowledged_at = paid_at WHERE status = 'PAID';
CREATE INDEX debt_positions_paid_unacknowledged ON debt_positions (paid_at)
    WHERE status = 'PAID' AND paid_acknowledged_at IS NULL;
CREATE INDEX debt_positions_created ON debt_positions (created_at) WHERE status = 'CREATED';

-- +goose Down
DROP INDEX debt_positions_created;
DROP INDEX debt_positions_paid_unacknowledged;
ALTER TABLE debt_positions DROP COLUMN paid_acknowledged_at;
ALTER TABLE receipts DROP CONSTRAINT receipts_flag_check,
    ADD CONSTRAINT receipts_flag_check
    CHECK (flag IN ('UNKNOWN_NOTICE', 'AMOUNT_MISMATCH', 'DOUBLE_PAYMENT', 'PAID_AFTER_CANCEL'));
