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

-- The mandates' IBANs are encrypted by the application (services/ibans): AES-256-GCM under the
-- key iban_key_id, bound to the mandate's reference. iban keeps the IBANs stored before, in
-- clear, until `incasso rekey-ibans` seals them; a row has one or the other.
ALTER TABLE sdd_mandates
    ALTER COLUMN iban DROP NOT NULL,
    ADD COLUMN iban_sealed bytea,
    ADD COLUMN iban_key_id text CHECK (iban_key_id ~ '^[A-Za-z0-9._-]{1,32}$'),
    ADD CONSTRAINT sdd_mandates_iban_once CHECK (
        (iban IS NULL) = (iban_sealed IS NOT NULL) AND (iban_sealed IS NULL) = (iban_key_id IS NULL));
CREATE INDEX sdd_mandates_iban_key_id ON sdd_mandates (iban_key_id);

-- +goose Down
DROP INDEX sdd_mandates_iban_key_id;
ALTER TABLE sdd_mandates DROP CONSTRAINT sdd_mandates_iban_once, DROP COLUMN iban_key_id, DROP COLUMN iban_sealed;
ALTER TABLE sdd_mandates ALTER COLUMN iban SET NOT NULL; -- fails while sealed IBANs exist: rekey them in clear first
DROP TABLE console_revocations;
