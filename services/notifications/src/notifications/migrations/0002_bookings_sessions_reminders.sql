-- depends: 0001_contacts_and_messages

-- What each participant was last told about their registration, from the events consumed:
-- a session change is announced only to those whose facts differ from the new ones.
ALTER TABLE contacts
    ADD COLUMN registration_code  text,
    ADD COLUMN status             text CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    ADD COLUMN session_id         uuid,
    ADD COLUMN session_title      text,
    ADD COLUMN starts_at          timestamptz,
    ADD COLUMN ends_at            timestamptz,
    ADD COLUMN room               text,
    ADD COLUMN manage_url         text,
    ADD COLUMN calendar_sequence  integer NOT NULL DEFAULT 0;
CREATE INDEX contacts_by_session ON contacts (session_id);

-- The latest word of catalog.events on each session. `changed_at` is that event's time: a
-- registration event older than it carries stale session facts.
CREATE TABLE sessions (
    session_id  uuid PRIMARY KEY,
    starts_at   timestamptz,
    ends_at     timestamptz,
    room        text,
    titles      jsonb,
    changed_at  timestamptz,
    cancelled   boolean NOT NULL DEFAULT false
);

-- Messages of one registration go out in the order of what caused them.
ALTER TABLE messages ADD COLUMN caused_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'cancelled'));
CREATE INDEX messages_pending_by_registration ON messages (registration_id, caused_at) WHERE status = 'pending';

-- One reminder per registration, ever. A worker turns due ones into messages.
CREATE TABLE reminders (
    registration_id uuid PRIMARY KEY,
    due_at          timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'queued', 'cancelled', 'expired')),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE status = 'scheduled';
