-- +goose Up
-- The archive by status (GET /v1/communications?status=): the print room's queue of letters
-- (PRINT) and the messages the relay may not have had (UNCONFIRMED), newest first.
CREATE INDEX communications_status ON communications (status, id);

-- +goose Down
DROP INDEX communications_status;
