-- The search of debts (services/search). Every filter is optional: NULL (an empty array for
-- statuses) matches every debt. The queries run with plan_cache_mode = force_custom_plan
-- (SetCustomPlans), so the planner sees the values: the filters not given fold away, and so
-- do the sorts and cursors not chosen, leaving the indexes of the filters given.

-- name: SetCustomPlans :exec
-- Plans the next statements of the transaction with their values, never a generic plan.
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: SetStatementTimeout :exec
-- Bounds the statements of the rest of the transaction (or of the savepoint).
SELECT set_config('statement_timeout', @timeout::text, true);

-- name: SearchDebts :many
-- A page of the debts that match, in the order of sort (due, -due, amount, -amount, updated,
-- -updated; id breaks ties in the same direction), after the cursor's key and id when given.
-- The page's ids are chosen first, by a query that reads only the filters' and the sort's
-- columns (an index-only scan where an index has them all), then their rows are read by id.
SELECT p.id, p.iupd, p.service_code, p.status, p.debtor_type, p.debtor_fiscal_code, p.debtor_name,
    p.amount_cents, p.collected_cents, p.due_date, p.nav, p.campaign_id, p.in_instalments,
    p.flagged_receipts, p.issued_at, p.updated_at
FROM unnest(ARRAY(
SELECT d.id
FROM debt_positions d
WHERE d.ec_fiscal_code = @ec_fiscal_code
  AND (sqlc.narg(debtor)::text IS NULL OR d.debtor_fiscal_code = sqlc.narg(debtor))
  AND (sqlc.narg(service)::text IS NULL OR d.service_code = sqlc.narg(service))
  AND (cardinality(@statuses::text[]) = 0 OR d.status = ANY(@statuses::text[]))
  AND (sqlc.narg(campaign_id)::bigint IS NULL OR d.campaign_id = sqlc.narg(campaign_id))
  AND (sqlc.narg(due_from)::date IS NULL OR d.due_date >= sqlc.narg(due_from))
  AND (sqlc.narg(due_to)::date IS NULL OR d.due_date <= sqlc.narg(due_to))
  AND (sqlc.narg(issued_from)::timestamptz IS NULL OR d.issued_at >= sqlc.narg(issued_from))
  AND (sqlc.narg(issued_before)::timestamptz IS NULL OR d.issued_at < sqlc.narg(issued_before))
  AND (sqlc.narg(amount_min)::bigint IS NULL OR d.amount_cents >= sqlc.narg(amount_min))
  AND (sqlc.narg(amount_max)::bigint IS NULL OR d.amount_cents <= sqlc.narg(amount_max))
  AND (sqlc.narg(overdue_before)::date IS NULL
       OR (d.status IN ('ISSUED', 'OVERDUE') AND d.due_date < sqlc.narg(overdue_before)))
  AND (sqlc.narg(in_instalments)::boolean IS NULL OR d.in_instalments = sqlc.narg(in_instalments))
  AND (sqlc.narg(flagged)::boolean IS NULL OR (d.flagged_receipts > 0) = sqlc.narg(flagged))
  AND (sqlc.narg(iupd_like)::text IS NULL OR d.iupd LIKE sqlc.narg(iupd_like))
  AND (sqlc.narg(reconciliation)::text IS NULL OR EXISTS (
       SELECT 1 FROM receipts r JOIN receipt_reconciliation rr ON rr.receipt_id = r.id
       WHERE r.debt_id = d.id AND rr.status = sqlc.narg(reconciliation)))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (@sort::text = 'due' AND (d.due_date, d.id) > (sqlc.narg(after_due)::date, sqlc.narg(after_id)))
       OR (@sort::text = '-due' AND (d.due_date, d.id) < (sqlc.narg(after_due)::date, sqlc.narg(after_id)))
       OR (@sort::text = 'amount' AND (d.amount_cents, d.id) > (sqlc.narg(after_amount)::bigint, sqlc.narg(after_id)))
       OR (@sort::text = '-amount' AND (d.amount_cents, d.id) < (sqlc.narg(after_amount)::bigint, sqlc.narg(after_id)))
       OR (@sort::text = 'updated' AND (d.updated_at, d.id) > (sqlc.narg(after_updated)::timestamptz, sqlc.narg(after_id)))
       OR (@sort::text = '-updated' AND (d.updated_at, d.id) < (sqlc.narg(after_updated)::timestamptz, sqlc.narg(after_id))))
ORDER BY
    -- sort_matches (the filter matches few debts) sorts by an expression no index has, so the
    -- planner reads the matches by the filters' indexes and keeps the first rows in a top-N
    -- sort. Otherwise it may walk the sort's index until enough rows pass the filter, quick
    -- when many do, but through most of the table when the filter's column follows the sort's
    -- (debts issued in a month all fall due some weeks later).
    CASE WHEN @sort::text = 'due' AND NOT @sort_matches::boolean THEN d.due_date END,
    CASE WHEN @sort::text = 'due' AND @sort_matches::boolean THEN d.due_date + 0 END,
    CASE WHEN @sort::text = '-due' AND NOT @sort_matches::boolean THEN d.due_date END DESC,
    CASE WHEN @sort::text = '-due' AND @sort_matches::boolean THEN d.due_date + 0 END DESC,
    CASE WHEN @sort::text = 'amount' AND NOT @sort_matches::boolean THEN d.amount_cents END,
    CASE WHEN @sort::text = 'amount' AND @sort_matches::boolean THEN d.amount_cents + 0 END,
    CASE WHEN @sort::text = '-amount' AND NOT @sort_matches::boolean THEN d.amount_cents END DESC,
    CASE WHEN @sort::text = '-amount' AND @sort_matches::boolean THEN d.amount_cents + 0 END DESC,
    CASE WHEN @sort::text = 'updated' AND NOT @sort_matches::boolean THEN d.updated_at END,
    CASE WHEN @sort::text = 'updated' AND @sort_matches::boolean THEN d.updated_at + interval '0' END,
    CASE WHEN @sort::text = '-updated' AND NOT @sort_matches::boolean THEN d.updated_at END DESC,
    CASE WHEN @sort::text = '-updated' AND @sort_matches::boolean THEN d.updated_at + interval '0' END DESC,
    CASE WHEN @sort::text IN ('due', 'amount', 'updated') THEN d.id END,
    d.id DESC
LIMIT @max_rows)) WITH ORDINALITY AS page (debt_id, n)
JOIN debt_positions p ON p.id = page.debt_id
ORDER BY page.n;

-- name: ExportDebts :many
-- A batch of an export: SearchDebts' filters, sort and cursor (keep them in step), read in
-- one pass along the sort's index. Not through SearchDebts' ids: reading a batch's rows by id
-- afterwards costs a second index lookup per row, a third of an export of 1,000,000.
SELECT d.id, d.iupd, d.service_code, d.status, d.debtor_type, d.debtor_fiscal_code, d.debtor_name,
    d.amount_cents, d.collected_cents, d.due_date, d.nav, d.campaign_id, d.in_instalments,
    d.flagged_receipts, d.issued_at, d.updated_at
FROM debt_positions d
WHERE d.ec_fiscal_code = @ec_fiscal_code
  AND (sqlc.narg(debtor)::text IS NULL OR d.debtor_fiscal_code = sqlc.narg(debtor))
  AND (sqlc.narg(service)::text IS NULL OR d.service_code = sqlc.narg(service))
  AND (cardinality(@statuses::text[]) = 0 OR d.status = ANY(@statuses::text[]))
  AND (sqlc.narg(campaign_id)::bigint IS NULL OR d.campaign_id = sqlc.narg(campaign_id))
  AND (sqlc.narg(due_from)::date IS NULL OR d.due_date >= sqlc.narg(due_from))
  AND (sqlc.narg(due_to)::date IS NULL OR d.due_date <= sqlc.narg(due_to))
  AND (sqlc.narg(issued_from)::timestamptz IS NULL OR d.issued_at >= sqlc.narg(issued_from))
  AND (sqlc.narg(issued_before)::timestamptz IS NULL OR d.issued_at < sqlc.narg(issued_before))
  AND (sqlc.narg(amount_min)::bigint IS NULL OR d.amount_cents >= sqlc.narg(amount_min))
  AND (sqlc.narg(amount_max)::bigint IS NULL OR d.amount_cents <= sqlc.narg(amount_max))
  AND (sqlc.narg(overdue_before)::date IS NULL
       OR (d.status IN ('ISSUED', 'OVERDUE') AND d.due_date < sqlc.narg(overdue_before)))
  AND (sqlc.narg(in_instalments)::boolean IS NULL OR d.in_instalments = sqlc.narg(in_instalments))
  AND (sqlc.narg(flagged)::boolean IS NULL OR (d.flagged_receipts > 0) = sqlc.narg(flagged))
  AND (sqlc.narg(iupd_like)::text IS NULL OR d.iupd LIKE sqlc.narg(iupd_like))
  AND (sqlc.narg(reconciliation)::text IS NULL OR EXISTS (
       SELECT 1 FROM receipts r JOIN receipt_reconciliation rr ON rr.receipt_id = r.id
       WHERE r.debt_id = d.id AND rr.status = sqlc.narg(reconciliation)))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR (@sort::text = 'due' AND (d.due_date, d.id) > (sqlc.narg(after_due)::date, sqlc.narg(after_id)))
       OR (@sort::text = '-due' AND (d.due_date, d.id) < (sqlc.narg(after_due)::date, sqlc.narg(after_id)))
       OR (@sort::text = 'amount' AND (d.amount_cents, d.id) > (sqlc.narg(after_amount)::bigint, sqlc.narg(after_id)))
       OR (@sort::text = '-amount' AND (d.amount_cents, d.id) < (sqlc.narg(after_amount)::bigint, sqlc.narg(after_id)))
       OR (@sort::text = 'updated' AND (d.updated_at, d.id) > (sqlc.narg(after_updated)::timestamptz, sqlc.narg(after_id)))
       OR (@sort::text = '-updated' AND (d.updated_at, d.id) < (sqlc.narg(after_updated)::timestamptz, sqlc.narg(after_id))))
ORDER BY
    CASE WHEN @sort::text = 'due' THEN d.due_date END,
    CASE WHEN @sort::text = '-due' THEN d.due_date END DESC,
    CASE WHEN @sort::text = 'amount' THEN d.amount_cents END,
    CASE WHEN @sort::text = '-amount' THEN d.amount_cents END DESC,
    CASE WHEN @sort::text = 'updated' THEN d.updated_at END,
    CASE WHEN @sort::text = '-updated' THEN d.updated_at END DESC,
    CASE WHEN @sort::text IN ('due', 'amount', 'updated') THEN d.id END,
    d.id DESC
LIMIT @max_rows;

-- name: SearchTotals :one
-- The totals of every debt that matches (the filters of SearchDebts): how many, what they
-- ask, what they collected, and what the open ones still owe.
SELECT count(*) AS debts, coalesce(sum(d.amount_cents), 0)::bigint AS issued_cents,
    coalesce(sum(d.collected_cents), 0)::bigint AS collected_cents,
    coalesce(sum(greatest(d.amount_cents - d.collected_cents, 0))
             FILTER (WHERE d.status IN ('CREATED', 'ISSUED', 'OVERDUE', 'INSTALMENTS')), 0)::bigint AS outstanding_cents
FROM debt_positions d
WHERE d.ec_fiscal_code = @ec_fiscal_code
  AND (sqlc.narg(debtor)::text IS NULL OR d.debtor_fiscal_code = sqlc.narg(debtor))
  AND (sqlc.narg(service)::text IS NULL OR d.service_code = sqlc.narg(service))
  AND (cardinality(@statuses::text[]) = 0 OR d.status = ANY(@statuses::text[]))
  AND (sqlc.narg(campaign_id)::bigint IS NULL OR d.campaign_id = sqlc.narg(campaign_id))
  AND (sqlc.narg(due_from)::date IS NULL OR d.due_date >= sqlc.narg(due_from))
  AND (sqlc.narg(due_to)::date IS NULL OR d.due_date <= sqlc.narg(due_to))
  AND (sqlc.narg(issued_from)::timestamptz IS NULL OR d.issued_at >= sqlc.narg(issued_from))
  AND (sqlc.narg(issued_before)::timestamptz IS NULL OR d.issued_at < sqlc.narg(issued_before))
  AND (sqlc.narg(amount_min)::bigint IS NULL OR d.amount_cents >= sqlc.narg(amount_min))
  AND (sqlc.narg(amount_max)::bigint IS NULL OR d.amount_cents <= sqlc.narg(amount_max))
  AND (sqlc.narg(overdue_before)::date IS NULL
       OR (d.status IN ('ISSUED', 'OVERDUE') AND d.due_date < sqlc.narg(overdue_before)))
  AND (sqlc.narg(in_instalments)::boolean IS NULL OR d.in_instalments = sqlc.narg(in_instalments))
  AND (sqlc.narg(flagged)::boolean IS NULL OR (d.flagged_receipts > 0) = sqlc.narg(flagged))
  AND (sqlc.narg(iupd_like)::text IS NULL OR d.iupd LIKE sqlc.narg(iupd_like))
  AND (sqlc.narg(reconciliation)::text IS NULL OR EXISTS (
       SELECT 1 FROM receipts r JOIN receipt_reconciliation rr ON rr.receipt_id = r.id
       WHERE r.debt_id = d.id AND rr.status = sqlc.narg(reconciliation)));

-- name: SearchTotalsByMonth :one
-- The totals of debt_totals' groups: the debts of the filters of SearchTotals that it groups
-- by, over whole months of due date (due_from <= month < due_before) and of issue.
SELECT coalesce(sum(t.debts), 0)::bigint AS debts, coalesce(sum(t.issued_cents), 0)::bigint AS issued_cents,
    coalesce(sum(t.collected_cents), 0)::bigint AS collected_cents,
    coalesce(sum(t.outstanding_cents), 0)::bigint AS outstanding_cents
FROM debt_totals t
WHERE t.ec_fiscal_code = @ec_fiscal_code
  AND (sqlc.narg(service)::text IS NULL OR t.service_code = sqlc.narg(service))
  AND (cardinality(@statuses::text[]) = 0 OR t.status = ANY(@statuses::text[]))
  AND (NOT @overdue::boolean OR t.status IN ('ISSUED', 'OVERDUE'))
  AND (sqlc.narg(in_instalments)::boolean IS NULL OR t.in_instalments = sqlc.narg(in_instalments))
  AND (sqlc.narg(due_from)::date IS NULL OR t.due_month >= sqlc.narg(due_from))
  AND (sqlc.narg(due_before)::date IS NULL OR t.due_month < sqlc.narg(due_before))
  AND (NOT @issued::boolean OR t.issued_month <> 'infinity')
  AND (sqlc.narg(issued_from)::date IS NULL OR t.issued_month >= sqlc.narg(issued_from))
  AND (sqlc.narg(issued_before)::date IS NULL OR t.issued_month < sqlc.narg(issued_before));
