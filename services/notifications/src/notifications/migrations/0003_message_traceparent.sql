-- depends: 0002_bookings_sessions_reminders

-- The trace of the event that caused a message: its SMTP send joins that trace.
ALTER TABLE messages ADD COLUMN traceparent text;
