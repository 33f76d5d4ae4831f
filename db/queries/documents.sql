-- name: InsertDocument :one
INSERT INTO documents (debt_id, kind, filename, content_type, content, sha256)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (debt_id, kind) DO UPDATE SET debt_id = EXCLUDED.debt_id
RETURNING id;

-- name: GetDocument :one
SELECT * FROM documents WHERE id = $1;

-- name: GetDocumentByDebt :one
SELECT * FROM documents WHERE debt_id = $1 AND kind = $2;
