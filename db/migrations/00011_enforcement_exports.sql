-- +goose Up
-- Every export of hand-overs to the collection agent, as it was handed over: the exact file,
-- its hash and who asked for it, stored in the transaction that marks its hand-overs exported,
-- so that an answer lost on the way loses nothing (GET /v1/enforcement/exports/{id}).
CREATE TABLE enforcement_exports (
    id         bigserial   PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text        NOT NULL,
    row_count  integer     NOT NULL CHECK (row_count >= 0),
    content    bytea       NOT NULL,
    sha256     bytea       NOT NULL CHECK (length(sha256) = 32)
);

-- The export a hand-over went in; hand-overs exported before this migration have none.
ALTER TABLE enforcement_handovers ADD COLUMN export_id bigint REFERENCES enforcement_exports (id),
    ADD CONSTRAINT exported_with_export CHECK (export_id IS NULL OR exported_at IS NOT NULL);
CREATE INDEX enforcement_handovers_export ON enforcement_handovers (export_id) WHERE export_id IS NOT NULL;
CREATE INDEX enforcement_handovers_pending ON enforcement_handovers (id) WHERE exported_at IS NULL;

-- An export is a legal record of what the agent received: it is never altered nor deleted.
-- +goose StatementBegin
CREATE FUNCTION enforcement_exports_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'enforcement export % is kept as it was handed over: it cannot be changed or deleted', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER enforcement_exports_immutable BEFORE UPDATE OR DELETE ON enforcement_exports
    FOR EACH ROW EXECUTE FUNCTION enforcement_exports_immutable();

-- +goose Down
-- The exported files are not thrown away to go down: they stop it.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM enforcement_exports) THEN
        RAISE EXCEPTION 'enforcement exports are kept: they cannot go down to the old schema';
    END IF;
END
$$;
-- +goose StatementEnd
DROP INDEX enforcement_handovers_pending;
DROP INDEX enforcement_handovers_export;
ALTER TABLE enforcement_handovers DROP CONSTRAINT exported_with_export, DROP COLUMN export_id;
DROP TRIGGER enforcement_exports_immutable ON enforcement_exports;
DROP FUNCTION enforcement_exports_immutable();
DROP TABLE enforcement_exports;
