"""Province meetings (the training of section 三): nominations per city, personal links, the signal
test, attendance and a moderated text Q&A. Media (receive-only audience, floor) is not here."""
