-- How many times in a row a timer failed to fire. Past a limit the timer service quarantines
-- it (timers/service.py) instead of retrying it after every lease, for ever.
ALTER TABLE timer ADD COLUMN failures int NOT NULL DEFAULT 0;
