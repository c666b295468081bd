-- depends: 0001_sessions_and_registrations
CREATE TABLE workshops (
    id               uuid PRIMARY KEY,
    topic            text NOT NULL CHECK (topic IN ('online_visibility', 'social_media', 'seo', 'e_commerce',
                                                    'digital_marketing', 'other')),
    title_fr         text NOT NULL,
    title_nl         text NOT NULL,
    title_en         text NOT NULL,
    description_fr   text NOT NULL,
    description_nl   text NOT NULL,
    description_en   text NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
    created_at       timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE sessions RENAME COLUMN title TO title_en;
ALTER TABLE sessions
    ADD COLUMN title_fr      text,
    ADD COLUMN title_nl      text,
    ADD COLUMN workshop_id   uuid REFERENCES workshops (id),
    ADD COLUMN kind          text NOT NULL DEFAULT 'workshop' CHECK (kind IN ('workshop', 'coaching')),
    ADD COLUMN topic         text NOT NULL DEFAULT 'other',
    ADD COLUMN coach         text,
    ADD COLUMN status        text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    ADD COLUMN cancel_reason text,
    -- Waiting-line counters, changed by the same atomic UPDATEs that take seats.
    ADD COLUMN waiting       integer NOT NULL DEFAULT 0 CHECK (waiting >= 0),
    ADD COLUMN waitlist_seq  bigint NOT NULL DEFAULT 0;
UPDATE sessions SET title_fr = title_en, title_nl = title_en;
ALTER TABLE sessions ALTER COLUMN title_fr SET NOT NULL, ALTER COLUMN title_nl SET NOT NULL;
CREATE INDEX sessions_starts_at ON sessions (starts_at);

ALTER TABLE registrations DROP CONSTRAINT registrations_status_check;
ALTER TABLE registrations
    ADD CONSTRAINT registrations_status_check CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    ADD COLUMN phone              text,
    ADD COLUMN profile            text NOT NULL DEFAULT 'other'
        CHECK (profile IN ('entrepreneur', 'student', 'job_seeker', 'other')),
    ADD COLUMN company            text,
    ADD COLUMN consent_to_contact boolean NOT NULL DEFAULT false,
    ADD COLUMN manage_token_hash  bytea,
    ADD COLUMN waitlist_seq       bigint,
    ADD COLUMN command_id         uuid UNIQUE,
    ADD COLUMN cancelled_at       timestamptz,
    ADD COLUMN cancelled_by       text CHECK (cancelled_by IN ('participant', 'organiser')),
    ADD COLUMN cancel_reason      text,
    ADD COLUMN attended_at        timestamptz;

DROP INDEX registrations_one_active_per_email;
CREATE UNIQUE INDEX registrations_one_active_per_email
    ON registrations (session_id, lower(email)) WHERE status IN ('confirmed', 'waitlisted');
CREATE INDEX registrations_by_email ON registrations (lower(email)) WHERE status IN ('confirmed', 'waitlisted');
CREATE INDEX registrations_waitlist ON registrations (session_id, waitlist_seq) WHERE status = 'waitlisted';

-- Idempotency-Key: the first response to a key is replayed for the same request.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY,
    request_hash bytea NOT NULL,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
