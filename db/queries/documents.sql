-- name: InsertDocument :one
INSERT INTO documents (debt_id, kind, revision, filename, content_type, content, sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (debt_id, kind, revision) DO UPDATE SET debt_id = EXCLUDED.debt_id
RETURNING id;

-- name: GetDocument :one
SELECT * FROM documents WHERE id = $1;

-- name: GetLatestDocument :one
SELECT * FROM documents WHERE debt_id = $1 AND kind = $2 ORDER BY revision DESC LIMIT 1;

-- name: ListDocumentsOfDebt :many
-- The documents of a debt without their bytes, oldest first.
SELECT id, kind, revision, filename, content_type, sha256, created_at FROM documents
WHERE debt_id = $1 ORDER BY kind, revision;
