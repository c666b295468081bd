-- Outbox: events written in the same transaction as the state change, relayed to Kafka.
CREATE TABLE outbox (
    position   bigserial PRIMARY KEY,
    event_id   text NOT NULL UNIQUE,
    topic      text NOT NULL,
    key        text NOT NULL,
    headers    jsonb NOT NULL,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON outbox (position) WHERE sent_at IS NULL;

-- Inbox: one row per (consumer group, event id) handled; a redelivery finds it and does nothing.
CREATE TABLE inbox (
    consumer    text NOT NULL,
    event_id    text NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
