-- depends: 0002_bookings_sessions_reminders

-- Each voucher notifications heard of: a TicketIssued read again after its TicketVoided (a replay
-- of a dead letter, or a copy under a new event id) sends nothing.
CREATE TABLE vouchers (
    voucher_id      uuid PRIMARY KEY,
    registration_id uuid NOT NULL,
    code            text NOT NULL,
    status          text NOT NULL CHECK (status IN ('issued', 'void'))
);

-- A message fails when a failure of its own comes later than NOTIFICATIONS_GIVE_UP_AFTER_HOURS
-- after this time: when it was queued, or re-queued by an operator.
ALTER TABLE messages ADD COLUMN retry_window_from timestamptz NOT NULL DEFAULT now();
