-- Webhooks (issue 14): endpoints that network admins (any city, city NULL)
-- and city admins (their city) register, and the deliveries queued for them
-- in the same transaction as the event, sent after commit by a worker.
CREATE TABLE webhook_endpoints (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url             text NOT NULL,
    events          text[] NOT NULL,
    city            text REFERENCES cities (slug),
    -- The signing secret (Standard Webhooks "whsec_" + base64), shown once
    -- at registration; kept because every delivery is signed with it.
    secret          text NOT NULL,
    created_by      bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Set when deliveries failed for three days; nothing is queued then.
    disabled_at     timestamptz,
    disabled_reason text NOT NULL DEFAULT ''
);

CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- The Standard Webhooks message id, the same on every attempt.
    msg_id          text NOT NULL UNIQUE,
    event           text NOT NULL,
    payload         text NOT NULL,
    -- The article the payload names, checked again when sending: what
    -- became unreadable in the endpoint's scope since is withheld.
    article_id      bigint REFERENCES articles (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'withheld')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);
-- For the cascades: deleting an article or an endpoint finds its rows.
CREATE INDEX webhook_deliveries_article_idx ON webhook_deliveries (article_id) WHERE article_id IS NOT NULL;

-- Wake the delivery workers of every instance after commit.
CREATE FUNCTION webhook_delivery_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hansewiki_webhooks', '');
    RETURN NULL;
END $$;
CREATE TRIGGER webhook_delivery_queued AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_delivery_queued();

ALTER TABLE notifications ADD COLUMN webhook_id bigint REFERENCES webhook_endpoints (id) ON DELETE SET NULL;
CREATE INDEX notifications_webhook_idx ON notifications (webhook_id) WHERE webhook_id IS NOT NULL;
