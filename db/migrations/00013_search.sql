-- +goose Up
-- What a search filters and totals, on the debt's row so that it needs no join: what the debt
-- has collected (its receipts with outcome OK and its instalments PAID; a return or refund of
-- an instalment takes it back), how many of its receipts are flagged, whether it has an
-- instalment plan, all kept by the triggers below in the transaction that records them
-- (receipts are never updated or deleted); and when its notice was first issued.
ALTER TABLE debt_positions
    ADD COLUMN collected_cents  bigint      NOT NULL DEFAULT 0,
    ADD COLUMN flagged_receipts int         NOT NULL DEFAULT 0,
    ADD COLUMN in_instalments   boolean     NOT NULL DEFAULT false,
    ADD COLUMN issued_at        timestamptz;

UPDATE debt_positions d SET
    collected_cents = coalesce((SELECT sum(r.amount_cents) FROM receipts r
                                WHERE r.debt_id = d.id AND r.outcome = 'OK'), 0)
                    + coalesce((SELECT sum(i.amount_cents) FROM instalments i
                                JOIN instalment_plans p ON p.id = i.plan_id
                                WHERE p.debt_id = d.id AND i.status = 'PAID'), 0),
    flagged_receipts = (SELECT count(*) FROM receipts r WHERE r.debt_id = d.id AND r.flag IS NOT NULL),
    in_instalments = EXISTS (SELECT 1 FROM instalment_plans p WHERE p.debt_id = d.id),
    issued_at = CASE WHEN d.status <> 'CREATED' THEN
                    coalesce((SELECT min(created_at) FROM documents WHERE debt_id = d.id), d.updated_at) END;

-- The search's indexes, each justified by make bench on 1,000,000 positions (README): one per
-- filter, covering what the totals sum so that a filter's totals are an index-only scan, and
-- one per sort for its pages and the exports' batches.
CREATE INDEX debt_positions_search_due ON debt_positions (due_date, id)
    INCLUDE (ec_fiscal_code, status, amount_cents, collected_cents);
CREATE INDEX debt_positions_search_amount ON debt_positions (amount_cents, id)
    INCLUDE (ec_fiscal_code, status, collected_cents);
CREATE INDEX debt_positions_search_updated ON debt_positions (updated_at, id);
CREATE INDEX debt_positions_search_issued ON debt_positions (issued_at)
    INCLUDE (ec_fiscal_code, status, amount_cents, collected_cents);
CREATE INDEX debt_positions_search_status ON debt_positions (status)
    INCLUDE (ec_fiscal_code, amount_cents, collected_cents);
CREATE INDEX debt_positions_search_service ON debt_positions (service_code)
    INCLUDE (ec_fiscal_code, status, amount_cents, collected_cents);
CREATE INDEX debt_positions_search_campaign ON debt_positions (campaign_id)
    INCLUDE (ec_fiscal_code, status, amount_cents, collected_cents) WHERE campaign_id IS NOT NULL;
CREATE INDEX debt_positions_search_flagged ON debt_positions (id) WHERE flagged_receipts > 0;
CREATE INDEX debt_positions_search_instalments ON debt_positions (id) WHERE in_instalments;
CREATE INDEX debt_positions_search_iupd ON debt_positions (iupd text_pattern_ops);

-- +goose StatementBegin
CREATE FUNCTION count_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE debt_positions SET
        collected_cents = collected_cents + CASE WHEN NEW.outcome = 'OK' THEN NEW.amount_cents ELSE 0 END,
        flagged_receipts = flagged_receipts + CASE WHEN NEW.flag IS NOT NULL THEN 1 ELSE 0 END
    WHERE id = NEW.debt_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER receipts_count AFTER INSERT ON receipts
    FOR EACH ROW WHEN (NEW.debt_id IS NOT NULL) EXECUTE FUNCTION count_receipt();

-- +goose StatementBegin
CREATE FUNCTION mark_in_instalments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE debt_positions SET in_instalments = true WHERE id = NEW.debt_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER instalment_plans_mark AFTER INSERT ON instalment_plans
    FOR EACH ROW EXECUTE FUNCTION mark_in_instalments();

-- +goose StatementBegin
CREATE FUNCTION collect_instalment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE debt_positions SET collected_cents = collected_cents
        + CASE WHEN NEW.status = 'PAID' THEN NEW.amount_cents ELSE 0 END
        - CASE WHEN OLD.status = 'PAID' THEN OLD.amount_cents ELSE 0 END
    WHERE id = (SELECT debt_id FROM instalment_plans WHERE id = NEW.plan_id);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER instalments_collect AFTER UPDATE OF status ON instalments
    FOR EACH ROW WHEN ((OLD.status = 'PAID') IS DISTINCT FROM (NEW.status = 'PAID')) EXECUTE FUNCTION collect_instalment();

-- +goose Down
DROP TRIGGER instalments_collect ON instalments;
DROP FUNCTION collect_instalment();
DROP TRIGGER instalment_plans_mark ON instalment_plans;
DROP FUNCTION mark_in_instalments();
DROP TRIGGER receipts_count ON receipts;
DROP FUNCTION count_receipt();
DROP INDEX debt_positions_search_iupd, debt_positions_search_instalments, debt_positions_search_flagged,
    debt_positions_search_campaign, debt_positions_search_service, debt_positions_search_status,
    debt_positions_search_issued, debt_positions_search_updated, debt_positions_search_amount,
    debt_positions_search_due;
ALTER TABLE debt_positions DROP COLUMN issued_at, DROP COLUMN in_instalments,
    DROP COLUMN flagged_receipts, DROP COLUMN collected_cents;
