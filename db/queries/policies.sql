-- name: InsertPolicy :one
-- A new version of the service's policy, numbered after the latest.
INSERT INTO escalation_policies (service_code, version, steps, created_by)
SELECT sqlc.arg(service_code)::text, coalesce(max(version), 0) + 1, sqlc.arg(steps)::jsonb, sqlc.arg(created_by)::text
FROM escalation_policies WHERE service_code = sqlc.arg(service_code)::text
RETURNING *;

-- name: GetLatestPolicy :one
SELECT * FROM escalation_policies WHERE service_code = $1 ORDER BY version DESC LIMIT 1;

-- name: GetPolicy :one
SELECT * FROM escalation_policies WHERE service_code = $1 AND version = $2;

-- name: ListPolicyVersions :many
SELECT * FROM escalation_policies WHERE service_code = $1 ORDER BY version DESC;

-- name: SetDebtPolicy :exec
UPDATE debt_positions SET policy_version = $2 WHERE id = $1;

-- name: SetLadderStep :exec
UPDATE debt_positions SET ladder_step = $2, ladder_step_at = now(), updated_at = now() WHERE id = $1;

-- name: LockPolicies :exec
-- Serialises the writers of one service's policy versions until the transaction ends.
SELECT pg_advisory_xact_lock(hashtext('escalation_policies/' || sqlc.arg(service_code)::text));
