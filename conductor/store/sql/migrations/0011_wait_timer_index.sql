-- The timers page counts WAIT timers by due time (millions may wait for months). A partial index
-- keeps those counts bounded index scans while other timer kinds pay nothing on write.
CREATE INDEX timer_wait_fire_at_idx ON timer (fire_at) WHERE kind = 'WAIT';
