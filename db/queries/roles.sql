-- name: GrantApplicationRole :exec
-- Gives the application's role what it may do on every table (migration 00020).
SELECT grant_application_role(@role::text);
