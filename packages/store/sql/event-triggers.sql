-- Reads the enabled @event triggers, whose selectors the application matches against an event.
-- Params: none.
-- Returns id, args (the selector).
SELECT t.id::text AS id, t.args FROM triggers t WHERE t.type = 'event' AND t.enabled ORDER BY t.id
