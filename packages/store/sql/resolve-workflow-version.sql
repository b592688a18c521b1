-- Picks the version a claimed workflow job starts on (JobCenter's `tags + default`): the newest version of
-- $3 carrying the tag the job asked for, else the newest default version (one with no tags). Fenced by the grab token.
-- Params: $1 job id bigint, $2 grab_token bigint, $3 workflow name.
-- Returns one row (tag: null when none was asked; unit_id: null when no version fits) while the token holds the job; no row otherwise.
SELECT t.tag,
       (SELECT u.id::text FROM workflow_units u
        WHERE u.name = $3 AND u.kind = 'workflow'
          AND (u.tags = '{}' OR (t.tag IS NOT NULL AND u.tags @> ARRAY[t.tag]))
        ORDER BY (t.tag IS NOT NULL AND u.tags @> ARRAY[t.tag]) DESC, u.version DESC
        LIMIT 1) AS unit_id
FROM jobs j LEFT JOIN workflow_job_tags t ON t.job_id = j.id
WHERE j.id = $1 AND j.grab_token = $2 AND j.state = 'running'
