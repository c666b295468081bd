CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    title       text NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    room        text NOT NULL,
    language    text NOT NULL CHECK (language IN ('fr', 'nl', 'en')),
    capacity    integer NOT NULL CHECK (capacity > 0),
    -- Kept beside capacity so that taking a seat is one conditional UPDATE.
    seats_taken integer NOT NULL DEFAULT 0 CHECK (seats_taken BETWEEN 0 AND capacity),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registrations (
    id                uuid PRIMARY KEY,
    code              text NOT NULL UNIQUE,
    session_id        uuid NOT NULL REFERENCES sessions (id),
    name              text NOT NULL,
    email             text NOT NULL,
    language          text NOT NULL CHECK (language IN ('fr', 'nl', 'en')),
    wants_voucher     boolean NOT NULL,
    origin_station_id text,
    status            text NOT NULL CHECK (status IN ('confirmed')),
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX registrations_one_active_per_email
    ON registrations (session_id, lower(email)) WHERE status = 'confirmed';
