-- A stored unit's signature: its in and out after `interface NAME:` is resolved, as the loader
-- computed it. A later load compiles its calls against the stored signature, so it needs neither
-- the unit's syntax tree nor the interface it named (which may since have a newer version).
-- Units saved before this migration have none (null): a load that calls one is refused by name.
ALTER TABLE workflow_units ADD COLUMN signature jsonb;
