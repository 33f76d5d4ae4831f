-- +goose Up
-- Positions taken over from the previous pagoPA platform keep their notice number: gpd_adopted
-- is the GPD state the position had there (DRAFT, PUBLISHED or VALID), empty for a position
-- incasso created itself. Debtors without email or PEC are written to by post, at a postal
-- address kept as its parts (all empty, or all given).
ALTER TABLE debt_positions
    ADD COLUMN gpd_adopted        text NOT NULL DEFAULT '' CHECK (gpd_adopted IN ('', 'DRAFT', 'PUBLISHED', 'VALID')),
    ADD COLUMN debtor_street      text NOT NULL DEFAULT '',
    ADD COLUMN debtor_postal_code text NOT NULL DEFAULT '' CHECK (debtor_postal_code ~ '^([0-9]{5})?$'),
    ADD COLUMN debtor_city        text NOT NULL DEFAULT '',
    ADD COLUMN debtor_province    text NOT NULL DEFAULT '' CHECK (debtor_province ~ '^([A-Z]{2})?$'),
    ADD CONSTRAINT debtor_reachable CHECK (debtor_email <> '' OR debtor_pec <> '' OR debtor_street <> '');

ALTER TABLE campaign_rows
    ADD COLUMN nav                text NOT NULL DEFAULT '',
    ADD COLUMN gpd_adopted        text NOT NULL DEFAULT '',
    ADD COLUMN debtor_street      text NOT NULL DEFAULT '',
    ADD COLUMN debtor_postal_code text NOT NULL DEFAULT '',
    ADD COLUMN debtor_city        text NOT NULL DEFAULT '',
    ADD COLUMN debtor_province    text NOT NULL DEFAULT '';
-- The import looks the notice numbers taken over up; most rows take none over, and are left out.
CREATE INDEX campaign_rows_nav ON campaign_rows (nav) WHERE nav <> '';

-- +goose Down
DROP INDEX campaign_rows_nav;
ALTER TABLE campaign_rows
    DROP COLUMN nav, DROP COLUMN gpd_adopted, DROP COLUMN debtor_street,
    DROP COLUMN debtor_postal_code, DROP COLUMN debtor_city, DROP COLUMN debtor_province;
ALTER TABLE debt_positions
    DROP CONSTRAINT debtor_reachable,
    DROP COLUMN gpd_adopted, DROP COLUMN debtor_street,
    DROP COLUMN debtor_postal_code, DROP COLUMN debtor_city, DROP COLUMN debtor_province;
