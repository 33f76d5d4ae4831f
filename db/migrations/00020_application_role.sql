-- +goose Up
-- The application's own database role. The migrations run as the owner of the tables; the API
-- and the worker connect with a role that owns nothing, so it can neither drop nor disable
-- the triggers that keep the audit trail, the archive and the legal receipts as they were
-- written, and grant_application_role gives it only what the application does:
--   * every table: SELECT, INSERT, UPDATE, DELETE (never TRUNCATE, REFERENCES or TRIGGER);
--   * audit_log: SELECT, INSERT, DELETE (the purge; its trigger refuses entries still kept);
--   * communication_receipts, enforcement_exports, treasury_statements, events: SELECT,
--     INSERT (written once, kept);
--   * domicile_lookups, legal_facts: SELECT, INSERT, DELETE (the purge past their retention,
--     which their triggers enforce);
--   * goose_db_version: SELECT (it does not migrate);
--   * the sequences: USAGE, SELECT.
-- It is called by `incasso migrate` when INCASSO_DB_APP_ROLE names the role, after every
-- migration, so tables added later get their grants too.

-- +goose StatementBegin
CREATE FUNCTION grant_application_role(app text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
    grants text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app) THEN
        RAISE EXCEPTION 'grant_application_role: role % does not exist: create it first (CREATE ROLE % LOGIN PASSWORD ...)', app, app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app AND (rolsuper OR rolbypassrls)) THEN
        RAISE EXCEPTION 'grant_application_role: role % is a superuser: no grant would bind it', app;
    END IF;
    IF app = current_user THEN
        RAISE EXCEPTION 'grant_application_role: % owns the tables: the application needs a role of its own', app;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), app);
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
        grants := CASE t.tablename
            WHEN 'audit_log' THEN 'SELECT, INSERT, DELETE'
            WHEN 'communication_receipts' THEN 'SELECT, INSERT'
            WHEN 'enforcement_exports' THEN 'SELECT, INSERT'
            WHEN 'treasury_statements' THEN 'SELECT, INSERT'
            WHEN 'events' THEN 'SELECT, INSERT'
            WHEN 'domicile_lookups' THEN 'SELECT, INSERT, DELETE'
            WHEN 'legal_facts' THEN 'SELECT, INSERT, DELETE'
            WHEN 'goose_db_version' THEN 'SELECT'
            ELSE 'SELECT, INSERT, UPDATE, DELETE'
        END;
        EXECUTE format('REVOKE ALL ON TABLE %I FROM %I', t.tablename, app);
        EXECUTE format('GRANT %s ON TABLE %I TO %I', grants, t.tablename, app);
    END LOOP;
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', current_schema(), app);
END
$$;
-- +goose StatementEnd

-- The IUV sequences are created on a creditor's first notice: as the owner, so that the
-- application's role needs no CREATE on the schema.
ALTER FUNCTION next_iuv_base(text, int) SECURITY DEFINER SET search_path FROM CURRENT;

-- +goose Down
ALTER FUNCTION next_iuv_base(text, int) SECURITY INVOKER RESET search_path;
DROP FUNCTION grant_application_role(text);
