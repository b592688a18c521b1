-- Points a caller's own connection at a namespace's schema for the statements that follow, and
-- reports what it pointed at before, so the caller's setting can be restored afterwards.
-- Params: $1 search_path text.
-- Returns previous (the search_path before), current.
SELECT current_setting('search_path') AS previous, set_config('search_path', $1, false) AS current
