-- +goose Up
-- Console tokens that must not be accepted again before they expire, shared by every API
-- instance: the sessions logged out (by the SHA-256 of the cookie's MAC) and the login forms'
-- CSRF tokens already used once (by the SHA-256 of their cookie). Expired rows serve no purpose
-- and are deleted as new ones come.
CREATE TABLE console_revocations (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    kind         text NOT NULL CHECK (kind IN ('session', 'login')),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_revocations_expires_at ON console_revocations (expires_at);

-- +goose Down
DROP TABLE console_revocations;
