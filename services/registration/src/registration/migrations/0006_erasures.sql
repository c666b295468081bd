-- depends: 0004_email_first_index

-- Erasing a person (docs/adr/0007). An erasure remembers no address: only an HMAC of it under a key
-- that never leaves this database, to answer a repeated request with the same erasure, and the
-- registrations it anonymised, to show which services confirmed.
CREATE TABLE erasure_key (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key       bytea NOT NULL
);
INSERT INTO erasure_key (key)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

CREATE TABLE erasures (
    id               uuid PRIMARY KEY,
    subject_hash     bytea NOT NULL,
    registration_ids uuid[] NOT NULL,
    command_id       uuid UNIQUE,
    requested_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasures_by_subject ON erasures (subject_hash, requested_at);

-- One row per service that has erased its part, registration's own included.
CREATE TABLE erasure_confirmations (
    erasure_id   uuid NOT NULL REFERENCES erasures (id),
    service      text NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (erasure_id, service)
);
