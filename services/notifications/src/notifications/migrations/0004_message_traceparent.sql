-- depends: 0003_vouchers_and_retry_window

-- The trace of the event that caused a message: its SMTP send joins that trace.
ALTER TABLE messages ADD COLUMN traceparent text;
