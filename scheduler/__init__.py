"""Planning and booking of check sessions, and the timed jobs around them."""
