-- name: NextIUVBase :one
SELECT nextval('iuv_base_seq')::bigint;

-- name: CreateDebt :one
INSERT INTO debt_positions (
    ec_fiscal_code, iupd, service_code, debtor_type, debtor_fiscal_code, debtor_name,
    debtor_email, amount_cents, due_date, description, nav
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (ec_fiscal_code, iupd) DO NOTHING
RETURNING *;

-- name: GetDebt :one
SELECT * FROM debt_positions WHERE id = $1;

-- name: GetDebtByIUPD :one
SELECT * FROM debt_positions WHERE ec_fiscal_code = $1 AND iupd = $2;

-- name: GetDebtByNAV :one
SELECT * FROM debt_positions WHERE nav = $1;

-- name: SetDebtStatus :one
-- PAID and CANCELLED are final: a late or repeated update leaves them as they are.
UPDATE debt_positions SET status = $2, updated_at = now()
WHERE id = $1 AND status NOT IN ('PAID', 'CANCELLED')
RETURNING status;

-- name: MarkDebtPaid :exec
UPDATE debt_positions SET status = 'PAID', paid_at = $2, updated_at = now()
WHERE id = $1 AND status <> 'PAID';
