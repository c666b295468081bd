-- depends: 0003_shipped_stations

-- The day of each session, from catalog.events: a voucher is valid on its session's day, and
-- follows it when the session moves. `changed_at` is the time of the event that said it, so an
-- older event (a replay, or a registration event written before the change) cannot bring an
-- old day back.
CREATE TABLE session_dates (
    session_id  uuid PRIMARY KEY,
    starts_at   timestamptz,
    changed_at  timestamptz NOT NULL,
    cancelled   boolean NOT NULL DEFAULT false
);

-- A moved session voids its vouchers and issues each registration a new one that replaces it.
-- The last lines against duplicates: one first voucher per registration, one replacement per voucher.
ALTER TABLE vouchers
    ADD COLUMN session_id uuid,
    ADD COLUMN replaces   uuid UNIQUE REFERENCES vouchers (id);
ALTER TABLE vouchers DROP CONSTRAINT vouchers_registration_id_key;
CREATE UNIQUE INDEX vouchers_one_first_per_registration ON vouchers (registration_id) WHERE replaces IS NULL;
CREATE INDEX vouchers_by_registration ON vouchers (registration_id);
CREATE INDEX vouchers_issued_by_session ON vouchers (session_id) WHERE status = 'issued';
