-- +goose Up
-- The totals of the search, pre-aggregated: for each creditor, service, status, plan or not,
-- month of the due date and month (in Rome) the notice was issued ('infinity' while it is
-- not), how many debts, what they ask, what they collected and what the open ones still owe
-- (the sums of SearchTotals). A filter on those alone sums here the months it covers whole,
-- and reads from debt_positions only its partial months (services/search). Kept by the
-- triggers below in the transaction of every change (a change of none of these columns fires
-- nothing); its size is the number of groups, not of debts (a campaign issues thousands of
-- debts in a month, with few due dates).
CREATE TABLE debt_totals (
    ec_fiscal_code    text    NOT NULL,
    service_code      text    NOT NULL,
    status            text    NOT NULL,
    in_instalments    boolean NOT NULL,
    due_month         date    NOT NULL,
    issued_month      date    NOT NULL,
    debts             bigint  NOT NULL,
    issued_cents      bigint  NOT NULL,
    collected_cents   bigint  NOT NULL,
    outstanding_cents bigint  NOT NULL,
    PRIMARY KEY (ec_fiscal_code, service_code, status, in_instalments, due_month, issued_month)
);

-- debt_totals_of is what one debt adds to its group (sign 1), or takes away from it (-1).
CREATE FUNCTION debt_totals_of(d debt_positions, sign int) RETURNS debt_totals LANGUAGE sql STABLE AS $$
    SELECT d.ec_fiscal_code, d.service_code, d.status, d.in_instalments, date_trunc('month', d.due_date)::date,
           coalesce(date_trunc('month', d.issued_at AT TIME ZONE 'Europe/Rome')::date, 'infinity'),
           sign::bigint, sign * d.amount_cents, sign * d.collected_cents,
           sign * CASE WHEN d.status IN ('CREATED', 'ISSUED', 'OVERDUE', 'INSTALMENTS')
                       THEN greatest(d.amount_cents - d.collected_cents, 0) ELSE 0 END
$$;

-- +goose StatementBegin
-- debt_totals_add adds t to its group.
CREATE FUNCTION debt_totals_add(t debt_totals) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF t.debts = 0 AND t.issued_cents = 0 AND t.collected_cents = 0 AND t.outstanding_cents = 0 THEN
        RETURN;
    END IF;
    INSERT INTO debt_totals AS k VALUES (t.*)
    ON CONFLICT (ec_fiscal_code, service_code, status, in_instalments, due_month, issued_month) DO UPDATE SET
        debts = k.debts + EXCLUDED.debts, issued_cents = k.issued_cents + EXCLUDED.issued_cents,
        collected_cents = k.collected_cents + EXCLUDED.collected_cents,
        outstanding_cents = k.outstanding_cents + EXCLUDED.outstanding_cents;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- A debt changed: it leaves the group it was in and joins the one it is in now (the same group
-- for, say, a receipt: its collected cents). The two groups are locked in the order of their
-- key, so that two changes that touch both wait for each other rather than deadlock.
CREATE FUNCTION debt_totals_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was debt_totals := debt_totals_of(OLD, -1);
    cur debt_totals := debt_totals_of(NEW, 1);
BEGIN
    IF (was.ec_fiscal_code, was.service_code, was.status, was.in_instalments, was.due_month, was.issued_month) =
       (cur.ec_fiscal_code, cur.service_code, cur.status, cur.in_instalments, cur.due_month, cur.issued_month) THEN
        cur.debts := 0;
        cur.issued_cents := cur.issued_cents + was.issued_cents;
        cur.collected_cents := cur.collected_cents + was.collected_cents;
        cur.outstanding_cents := cur.outstanding_cents + was.outstanding_cents;
        PERFORM debt_totals_add(cur);
    ELSIF (was.ec_fiscal_code, was.service_code, was.status, was.in_instalments, was.due_month, was.issued_month) <
          (cur.ec_fiscal_code, cur.service_code, cur.status, cur.in_instalments, cur.due_month, cur.issued_month) THEN
        PERFORM debt_totals_add(was);
        PERFORM debt_totals_add(cur);
    ELSE
        PERFORM debt_totals_add(cur);
        PERFORM debt_totals_add(was);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER debt_totals_update AFTER UPDATE ON debt_positions FOR EACH ROW
    WHEN ((OLD.ec_fiscal_code, OLD.service_code, OLD.status, OLD.in_instalments, OLD.due_date, OLD.issued_at,
           OLD.amount_cents, OLD.collected_cents) IS DISTINCT FROM
          (NEW.ec_fiscal_code, NEW.service_code, NEW.status, NEW.in_instalments, NEW.due_date, NEW.issued_at,
           NEW.amount_cents, NEW.collected_cents))
    EXECUTE FUNCTION debt_totals_update();

-- +goose StatementBegin
-- Debts inserted, by one statement or a COPY of a million: added group by group, in key order.
CREATE FUNCTION debt_totals_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM debt_totals_add(ROW(t.ec_fiscal_code, t.service_code, t.status, t.in_instalments, t.due_month, t.issued_month,
                                sum(t.debts), sum(t.issued_cents), sum(t.collected_cents), sum(t.outstanding_cents))::debt_totals)
    FROM debt_totals_new n, debt_totals_of(n, 1) t
    GROUP BY t.ec_fiscal_code, t.service_code, t.status, t.in_instalments, t.due_month, t.issued_month
    ORDER BY t.ec_fiscal_code, t.service_code, t.status, t.in_instalments, t.due_month, t.issued_month;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER debt_totals_insert AFTER INSERT ON debt_positions
    REFERENCING NEW TABLE AS debt_totals_new FOR EACH STATEMENT EXECUTE FUNCTION debt_totals_insert();

-- +goose StatementBegin
CREATE FUNCTION debt_totals_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM debt_totals_add(debt_totals_of(OLD, -1));
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER debt_totals_delete AFTER DELETE ON debt_positions FOR EACH ROW EXECUTE FUNCTION debt_totals_delete();

-- +goose StatementBegin
CREATE FUNCTION debt_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM debt_totals;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER debt_totals_truncate AFTER TRUNCATE ON debt_positions
    FOR EACH STATEMENT EXECUTE FUNCTION debt_totals_truncate();

-- The debts there already.
SELECT debt_totals_add(ROW(t.ec_fiscal_code, t.service_code, t.status, t.in_instalments, t.due_month, t.issued_month,
                           sum(t.debts), sum(t.issued_cents), sum(t.collected_cents), sum(t.outstanding_cents))::debt_totals)
FROM debt_positions p, debt_totals_of(p, 1) t
GROUP BY t.ec_fiscal_code, t.service_code, t.status, t.in_instalments, t.due_month, t.issued_month;

-- +goose Down
DROP TRIGGER debt_totals_truncate ON debt_positions;
DROP FUNCTION debt_totals_truncate();
DROP TRIGGER debt_totals_delete ON debt_positions;
DROP FUNCTION debt_totals_delete();
DROP TRIGGER debt_totals_insert ON debt_positions;
DROP FUNCTION debt_totals_insert();
DROP TRIGGER debt_totals_update ON debt_positions;
DROP FUNCTION debt_totals_update();
DROP FUNCTION debt_totals_add(debt_totals);
DROP FUNCTION debt_totals_of(debt_positions, int);
DROP TABLE debt_totals;
