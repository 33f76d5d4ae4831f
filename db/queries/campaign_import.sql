-- name: CreateCampaign :one
-- A campaign being imported: its checksum and counts are set by FinishCampaignImport, in the
-- same transaction, once the whole file has been read.
INSERT INTO campaigns (name, source_filename, source_sha256, created_by)
VALUES ($1, $2, '\x'::bytea, $3)
RETURNING id;

-- name: FinishCampaignImport :exec
UPDATE campaigns SET source_sha256 = $2, rows_total = $3, rows_rejected = $4 WHERE id = $1;

-- name: LockCampaignImports :exec
-- Imports check their iupds against each other one at a time, until the transaction ends.
SELECT pg_advisory_xact_lock(7354810245391204001);

-- name: CampaignImportConflicts :many
-- The imported rows whose iupd, or notice number taken over (field), is already taken: by a
-- debt (other_campaign_id 0), or by a row of another campaign that has not made it a debt yet
-- and still may (READY, RUNNING, PAUSED).
SELECT r.row_no, 0::bigint AS other_campaign_id, 'iupd'::text AS field
FROM campaign_rows r
JOIN debt_positions d ON d.ec_fiscal_code = sqlc.arg(ec_fiscal_code) AND d.iupd = r.iupd
WHERE r.campaign_id = sqlc.arg(campaign_id)
UNION ALL
SELECT r.row_no, o.campaign_id AS other_campaign_id, 'iupd'::text AS field
FROM campaigns c
JOIN campaign_rows o ON o.campaign_id = c.id AND o.debt_id IS NULL
JOIN campaign_rows r ON r.iupd = o.iupd AND r.campaign_id = sqlc.arg(campaign_id)
WHERE c.status IN ('READY', 'RUNNING', 'PAUSED') AND c.id <> sqlc.arg(campaign_id)
UNION ALL
SELECT r.row_no, 0::bigint AS other_campaign_id, 'nav'::text AS field
FROM campaign_rows r
JOIN debt_positions d ON d.nav = r.nav
WHERE r.campaign_id = sqlc.arg(campaign_id) AND r.nav <> ''
UNION ALL
SELECT r.row_no, o.campaign_id AS other_campaign_id, 'nav'::text AS field
FROM campaigns c
JOIN campaign_rows o ON o.campaign_id = c.id AND o.debt_id IS NULL AND o.nav <> ''
JOIN campaign_rows r ON r.nav = o.nav AND r.campaign_id = sqlc.arg(campaign_id)
WHERE c.status IN ('READY', 'RUNNING', 'PAUSED') AND c.id <> sqlc.arg(campaign_id)
ORDER BY row_no, field, other_campaign_id;

-- name: DeleteCampaignRows :exec
DELETE FROM campaign_rows WHERE campaign_id = $1 AND row_no = ANY(sqlc.arg(row_nos)::int[]);
