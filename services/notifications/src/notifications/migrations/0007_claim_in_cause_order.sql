-- depends: 0005_sealed_manage_links 0006_erased_registrations

-- Delivery claims pending messages in the order of their causes, the order each registration's
-- messages must leave in: the head of every registration's line comes first. Claiming by due time
-- walked past every message waiting for an earlier one of its registration (a voucher email read
-- before its confirmation), once per round: a scan that grew with the queue.
CREATE INDEX messages_pending_in_cause_order ON messages (caused_at, created_at, id) WHERE status = 'pending';
DROP INDEX messages_due;
