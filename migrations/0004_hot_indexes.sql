-- The busy check of every makeCall (an open call of this operator?) reads only open calls: a partial index
-- keeps it one index probe however many finished calls an operator has.
CREATE INDEX `calls_open_sip` ON `calls` (`sip`) WHERE `final` = 0;
