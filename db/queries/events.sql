-- name: ListEvents :many
-- A page of the feed after the cursor (txid, id), in order, of the events the reader may see
-- (event_visible) and of the types asked (none: all). Only events of transactions older than
-- every one still running are read, so none can later appear behind the cursor.
SELECT e.id, e.txid, e.type, e.occurred_at, e.data FROM events e
WHERE (e.txid, e.id) > (sqlc.arg(after_txid)::bigint, sqlc.arg(after_id)::bigint)
  AND e.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
  AND event_visible(e, sqlc.arg(role)::text, sqlc.arg(services)::text[], sqlc.arg(all_debts)::boolean, sqlc.arg(actor)::text)
  AND (cardinality(sqlc.arg(types)::text[]) = 0 OR e.type = ANY(sqlc.arg(types)::text[]))
ORDER BY e.txid, e.id
LIMIT sqlc.arg(max_rows);
