-- A row Kafka will never accept (too large, headers that are not text) is set aside: kept,
-- marked and counted, so the rows behind it are published.
ALTER TABLE outbox ADD COLUMN quarantined_at timestamptz, ADD COLUMN quarantine_reason text;
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (position) WHERE sent_at IS NULL AND quarantined_at IS NULL;

-- Only the relay holding this lease publishes, so the events of a key leave in order. It is
-- taken and renewed in single statements, never held in a transaction across Kafka I/O.
CREATE TABLE outbox_relay_lease (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    holder     uuid,
    expires_at timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO outbox_relay_lease DEFAULT VALUES;
