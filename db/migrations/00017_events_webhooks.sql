-- +goose Up
-- The event feed of other systems (GET /v1/events, webhooks): an outbox written by triggers in
-- the same transaction as each change of a debt, plan, campaign or message, so no event is
-- lost (the change rolled back takes its event with it) or invented.
--
-- An event's place in the feed is (txid, id): id is the bigserial, txid the writing
-- transaction's id. Readers only see events of transactions older than every transaction still
-- running (txid < pg_snapshot_xmin), so an event committed late by a slow transaction can never
-- land behind a cursor a reader already passed.
CREATE TABLE events (
    id              bigserial   PRIMARY KEY,
    txid            bigint      NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    type            text        NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    debt_id         bigint, -- no foreign keys: an event records the past and holds nothing back
    campaign_id     bigint,
    -- the scope of an integration key: the debt's service and who created it (empty for a campaign)
    service_code    text        NOT NULL DEFAULT '',
    debt_created_by text        NOT NULL DEFAULT '',
    -- ids, amounts, dates and states only: never a name, fiscal code, address or IBAN
    data            jsonb       NOT NULL
);
CREATE INDEX events_feed ON events (txid, id);

-- What a reader may see of the feed: everything, except for an integration key (role
-- 'integration'), which sees the events of the debts it may read: of its services (none: all),
-- and only those it created unless it has all debts. Campaign events are not for it.
CREATE FUNCTION event_visible(e events, role text, services text[], all_debts boolean, actor text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT role <> 'integration' OR (e.debt_id IS NOT NULL
        AND (cardinality(services) = 0 OR e.service_code = ANY(services))
        AND (all_debts OR e.debt_created_by = actor))
$$;

-- +goose StatementBegin
CREATE FUNCTION debt_event_data(d debt_positions) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('iupd', d.iupd, 'nav', d.nav, 'service', d.service_code,
        'amountCents', d.amount_cents, 'dueDate', d.due_date, 'status', d.status,
        'revision', d.revision, 'campaignId', d.campaign_id)
$$;

CREATE FUNCTION debt_event(kind text, d debt_positions, extra jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO events (type, debt_id, campaign_id, service_code, debt_created_by, data)
    VALUES (kind, d.id, d.campaign_id, d.service_code, d.created_by, debt_event_data(d) || extra)
$$;

CREATE FUNCTION debt_positions_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    receipt jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM debt_event('debt.created', NEW, '{}');
        RETURN NULL;
    END IF;
    IF NEW.revision > OLD.revision THEN
        PERFORM debt_event('debt.changed', NEW, jsonb_build_object(
            'previousAmountCents', OLD.amount_cents, 'previousDueDate', OLD.due_date));
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        CASE NEW.status
        WHEN 'ISSUED' THEN
            IF OLD.status = 'CREATED' THEN
                PERFORM debt_event('debt.issued', NEW, '{}');
            END IF;
        WHEN 'OVERDUE' THEN
            PERFORM debt_event('debt.overdue', NEW, '{}');
        WHEN 'INSTALMENTS' THEN
            PERFORM debt_event('debt.instalments', NEW, '{}');
        WHEN 'CANCELLED' THEN
            PERFORM debt_event('debt.cancelled', NEW, '{}');
        WHEN 'SUPERSEDED' THEN
            PERFORM debt_event('debt.superseded', NEW, '{}');
        WHEN 'PAID' THEN
            -- the receipt that settled it, recorded earlier in the same transaction
            SELECT jsonb_build_object('receiptId', r.receipt_id, 'paidAmountCents', r.amount_cents,
                       'paidAt', r.paid_at, 'pspId', r.psp_id, 'pspName', r.psp_name,
                       'paymentMethod', r.payment_method, 'source', r.source)
              INTO receipt
              FROM receipts r WHERE r.debt_id = NEW.id ORDER BY r.id DESC LIMIT 1;
            PERFORM debt_event('debt.paid', NEW, jsonb_build_object('paidAt', NEW.paid_at, 'receipt', receipt));
        ELSE
        END CASE;
    END IF;
    IF NEW.ladder_step IS DISTINCT FROM OLD.ladder_step AND NEW.ladder_step <> '' THEN
        PERFORM debt_event('debt.ladder_step', NEW, jsonb_build_object('step', NEW.ladder_step));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION enforcement_handovers_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM debt_event('debt.enforcement', d, jsonb_build_object('handedOverCents', NEW.amount_cents))
       FROM debt_positions d WHERE d.id = NEW.debt_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION instalments_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'PAID' AND OLD.status <> 'PAID' THEN
        PERFORM debt_event('instalment.paid', d, jsonb_build_object('planId', p.id, 'seq', NEW.seq,
                    'instalmentCents', NEW.amount_cents, 'instalmentDueDate', NEW.due_date))
           FROM instalment_plans p JOIN debt_positions d ON d.id = p.debt_id WHERE p.id = NEW.plan_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION sdd_collections_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('REJECTED', 'RETURNED') AND NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM debt_event('instalment.' || lower(NEW.status), d, jsonb_build_object('planId', p.id,
                    'seq', NEW.seq, 'attempt', NEW.attempt, 'instalmentCents', NEW.amount_cents,
                    'reasonCode', NEW.reason_code))
           FROM instalment_plans p JOIN debt_positions d ON d.id = p.debt_id WHERE p.id = NEW.plan_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION instalment_plans_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('COMPLETED', 'FORFEITED') AND NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM debt_event(CASE NEW.status WHEN 'COMPLETED' THEN 'plan.completed' ELSE 'plan.broken' END, d,
                    jsonb_build_object('planId', NEW.id, 'instalments', NEW.instalments,
                        'remainderCents', NEW.remainder_cents))
           FROM debt_positions d WHERE d.id = NEW.debt_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION campaigns_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
BEGIN
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    kind := CASE
        WHEN NEW.status = 'RUNNING' AND OLD.status = 'READY' THEN 'campaign.started'
        WHEN NEW.status = 'COMPLETED' THEN 'campaign.finished'
        WHEN NEW.status = 'CANCELLED' THEN 'campaign.cancelled'
        WHEN NEW.status = 'WITHDRAWN' THEN 'campaign.withdrawn'
    END;
    IF kind IS NOT NULL THEN
        INSERT INTO events (type, campaign_id, data)
        VALUES (kind, NEW.id, jsonb_build_object('campaignId', NEW.id, 'name', NEW.name,
                    'status', NEW.status, 'rowsTotal', NEW.rows_total));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION communications_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    msg jsonb := jsonb_build_object('communicationId', NEW.id, 'kind', NEW.kind, 'channel', NEW.channel,
                     'step', NEW.step);
BEGIN
    IF NEW.status = 'SENT' AND OLD.status <> 'SENT' THEN
        PERFORM debt_event('message.sent', d, msg || jsonb_build_object('sentAt', NEW.sent_at))
           FROM debt_positions d WHERE d.id = NEW.debt_id;
    END IF;
    IF NEW.delivered_at IS NOT NULL AND OLD.delivered_at IS NULL THEN
        PERFORM debt_event('message.delivered', d, msg || jsonb_build_object('deliveredAt', NEW.delivered_at))
           FROM debt_positions d WHERE d.id = NEW.debt_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER debt_positions_events AFTER INSERT OR UPDATE ON debt_positions
    FOR EACH ROW EXECUTE FUNCTION debt_positions_events();
CREATE TRIGGER enforcement_handovers_events AFTER INSERT ON enforcement_handovers
    FOR EACH ROW EXECUTE FUNCTION enforcement_handovers_events();
CREATE TRIGGER instalments_events AFTER UPDATE ON instalments
    FOR EACH ROW EXECUTE FUNCTION instalments_events();
CREATE TRIGGER sdd_collections_events AFTER UPDATE ON sdd_collections
    FOR EACH ROW EXECUTE FUNCTION sdd_collections_events();
CREATE TRIGGER instalment_plans_events AFTER UPDATE ON instalment_plans
    FOR EACH ROW EXECUTE FUNCTION instalment_plans_events();
CREATE TRIGGER campaigns_events AFTER UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_events();
CREATE TRIGGER communications_events AFTER UPDATE ON communications
    FOR EACH ROW EXECUTE FUNCTION communications_events();

-- The endpoints other systems register for webhooks. The owner's scope is kept as it was at
-- registration: an endpoint receives what its owner could read from the feed.
CREATE TABLE webhook_endpoints (
    id                   bigserial   PRIMARY KEY,
    url                  text        NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    event_types          text[]      NOT NULL CHECK (cardinality(event_types) >= 1),
    owner                text        NOT NULL, -- the Actor that registered it
    owner_role           text        NOT NULL,
    owner_services       text[]      NOT NULL DEFAULT '{}',
    owner_all_debts      boolean     NOT NULL DEFAULT false,
    secret               bytea       NOT NULL CHECK (length(secret) = 32),
    previous_secret      bytea       CHECK (length(previous_secret) = 32),
    previous_valid_until timestamptz,
    status               text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED', 'DELETED')),
    disabled_reason      text        NOT NULL DEFAULT '',
    disabled_at          timestamptz,
    -- where in the feed its deliveries have been queued up to
    cursor_txid          bigint      NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    cursor_id            bigint      NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One delivery per endpoint and event, delivered at least once; replaying one makes it PENDING again.
CREATE TABLE webhook_deliveries (
    id           bigserial   PRIMARY KEY,
    endpoint_id  bigint      NOT NULL REFERENCES webhook_endpoints (id),
    event_id     bigint      NOT NULL REFERENCES events (id),
    status       text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts     int         NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, id) WHERE status = 'PENDING';

-- Every attempt and the answer received: the delivery log an operator reads and replays from.
CREATE TABLE webhook_attempts (
    id           bigserial   PRIMARY KEY,
    delivery_id  bigint      NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at timestamptz NOT NULL DEFAULT now(),
    status_code  int         NOT NULL DEFAULT 0, -- 0: no answer (refused, timeout)
    response     text        NOT NULL DEFAULT '' CHECK (length(response) <= 1024),
    error        text        NOT NULL DEFAULT '',
    took_ms      int         NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- The answers to POST requests sent with an Idempotency-Key, per client, route and key, with
-- the hash of the request: the same key again replays the answer, another body is refused.
-- status 0 is a request still running.
CREATE TABLE idempotency_keys (
    client         text        NOT NULL,
    route          text        NOT NULL,
    key            text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256 bytea       NOT NULL CHECK (length(request_sha256) = 32),
    status         int         NOT NULL DEFAULT 0,
    content_type   text        NOT NULL DEFAULT '',
    location       text        NOT NULL DEFAULT '',
    body           bytea       NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client, route, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TRIGGER communications_events ON communications;
DROP TRIGGER campaigns_events ON campaigns;
DROP TRIGGER instalment_plans_events ON instalment_plans;
DROP TRIGGER sdd_collections_events ON sdd_collections;
DROP TRIGGER instalments_events ON instalments;
DROP TRIGGER enforcement_handovers_events ON enforcement_handovers;
DROP TRIGGER debt_positions_events ON debt_positions;
DROP FUNCTION communications_events();
DROP FUNCTION campaigns_events();
DROP FUNCTION instalment_plans_events();
DROP FUNCTION sdd_collections_events();
DROP FUNCTION instalments_events();
DROP FUNCTION enforcement_handovers_events();
DROP FUNCTION debt_positions_events();
DROP FUNCTION debt_event(text, debt_positions, jsonb);
DROP FUNCTION debt_event_data(debt_positions);
DROP FUNCTION event_visible(events, text, text[], boolean, text);
DROP TABLE events;
