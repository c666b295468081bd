-- Who to write to, projected from the events; never fetched from another service.
CREATE TABLE contacts (
    registration_id uuid PRIMARY KEY,
    name            text NOT NULL,
    email           text NOT NULL,
    language        text NOT NULL CHECK (language IN ('fr', 'nl', 'en')),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Every message is recorded before it is sent; pending rows are the delivery queue.
CREATE TABLE messages (
    id              uuid PRIMARY KEY,
    event_id        text NOT NULL,
    kind            text NOT NULL,
    registration_id uuid NOT NULL,
    message_id      text NOT NULL UNIQUE,
    context         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    subject         text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (event_id, kind)
);
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'pending';
