-- +goose NO TRANSACTION
-- +goose Up
-- A page of the debts issued in a period is read from this index alone (make bench: a month
-- of issue, about 31,000 of 1,000,000 positions, took 129 ms at p95 reading the rows
-- scattered over the table to sort them by due date; an index-only scan of the entries and a
-- top-N sort of their keys, then the page's rows by id, takes a few). It carries every sort's
-- key and the id, beside what the totals of a partial month sum. Built CONCURRENTLY, outside a
-- transaction, so that receipts and workflows go on writing debts while it is built.
CREATE INDEX CONCURRENTLY IF NOT EXISTS debt_positions_search_issued_covering ON debt_positions (issued_at)
    INCLUDE (ec_fiscal_code, status, amount_cents, collected_cents, due_date, updated_at, id);
DROP INDEX CONCURRENTLY IF EXISTS debt_positions_search_issued;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS debt_positions_search_issued ON debt_positions (issued_at)
    INCLUDE (ec_fiscal_code, status, amount_cents, collected_cents);
DROP INDEX CONCURRENTLY IF EXISTS debt_positions_search_issued_covering;
