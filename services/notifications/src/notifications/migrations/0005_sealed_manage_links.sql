-- depends: 0004_message_traceparent

-- The manage link carries the participant's manage token: it is kept sealed for notifications only
-- (docs/adr/0007). Links received in plain before are dropped: those emails go without one.
ALTER TABLE contacts RENAME COLUMN manage_url TO sealed_manage_url;
UPDATE contacts SET sealed_manage_url = NULL;
UPDATE messages SET context = context - 'manage_url' WHERE context ? 'manage_url';
