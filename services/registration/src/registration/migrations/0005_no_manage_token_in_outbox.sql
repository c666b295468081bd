-- depends: 0004_email_first_index platform_0001_outbox_inbox

-- Events written before the manage link was sealed (docs/adr/0007) carried it, token and all, in
-- `manage_url`: the outbox keeps no such copy.
UPDATE outbox
SET value = convert_to((convert_from(value, 'UTF8')::jsonb - 'manage_url')::text, 'UTF8')
WHERE position('"manage_url"' IN convert_from(value, 'UTF8')) > 0;
