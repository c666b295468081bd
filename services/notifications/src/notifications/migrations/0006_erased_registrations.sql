-- depends: 0004_message_traceparent

-- Registrations whose person was erased (PersonErased): an event about one of them that arrives
-- later (from another partition, or replayed) is applied, then its personal data scrubbed again.
CREATE TABLE erased_registrations (
    registration_id uuid PRIMARY KEY,
    erasure_id      uuid NOT NULL,
    erased_at       timestamptz NOT NULL DEFAULT now()
);
