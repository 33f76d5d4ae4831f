-- +goose Up
-- App IO (issue 17): a message to the citizen's IO profile, archived like every other. Its
-- raw is the exact JSON submitted to IO; once IO accepted it, answer is IO's exact answer
-- (with its hash) and io_message_id the id IO gave it, so that a message is never submitted
-- twice and its delivery can be traced in IO. 'send' is the channel of a SEND notification,
-- listed here with the enum of domain/reminders (Channel). The quietanza (kind 'receipt') goes
-- to the citizen when a payment is recorded. Which services send by IO is configuration
-- (INCASSO_IO_KEYS), not data.
ALTER TABLE communications
    DROP CONSTRAINT communications_channel_check,
    ADD CONSTRAINT communications_channel_check CHECK (channel IN ('email', 'pec', 'post', 'io', 'send')),
    DROP CONSTRAINT communications_kind_check,
    ADD CONSTRAINT communications_kind_check
        CHECK (kind IN ('notice', 'notice_change', 'cancellation', 'courtesy', 'sollecito', 'accertamento',
                        'plan_confirmation', 'sdd_prenotification', 'instalment_sollecito', 'plan_end', 'receipt')),
    ADD COLUMN io_message_id text,
    ADD COLUMN answer        bytea,
    ADD COLUMN answer_sha256 bytea,
    ADD CONSTRAINT communications_io_message_id_key UNIQUE (io_message_id),
    ADD CONSTRAINT communications_answer_hashed CHECK ((answer IS NULL) = (answer_sha256 IS NULL));

-- The answer and the IO message id, once recorded, are archived with the message: they do not
-- change (the rest of the row is guarded by communications_immutable).
-- +goose StatementBegin
CREATE FUNCTION communications_answer_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.io_message_id IS NOT NULL OR OLD.answer IS NOT NULL)
       AND (NEW.io_message_id, NEW.answer, NEW.answer_sha256) IS DISTINCT FROM (OLD.io_message_id, OLD.answer, OLD.answer_sha256) THEN
        RAISE EXCEPTION 'communication % is archived with its answer: it cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER communications_answer_immutable BEFORE UPDATE ON communications
    FOR EACH ROW EXECUTE FUNCTION communications_answer_immutable();

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM communications WHERE channel IN ('io', 'send') OR kind = 'receipt') THEN
        RAISE EXCEPTION 'App IO, SEND or receipt messages are archived: they cannot be migrated down';
    END IF;
END
$$;
-- +goose StatementEnd
DROP TRIGGER communications_answer_immutable ON communications;
DROP FUNCTION communications_answer_immutable();
ALTER TABLE communications
    DROP CONSTRAINT communications_answer_hashed,
    DROP CONSTRAINT communications_io_message_id_key,
    DROP COLUMN answer_sha256,
    DROP COLUMN answer,
    DROP COLUMN io_message_id,
    DROP CONSTRAINT communications_kind_check,
    ADD CONSTRAINT communications_kind_check
        CHECK (kind IN ('notice', 'notice_change', 'cancellation', 'courtesy', 'sollecito', 'accertamento',
                        'plan_confirmation', 'sdd_prenotification', 'instalment_sollecito', 'plan_end')),
    DROP CONSTRAINT communications_channel_check,
    ADD CONSTRAINT communications_channel_check CHECK (channel IN ('email', 'pec', 'post'));
