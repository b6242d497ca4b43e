"""What follows a check: the panel's verdict, its consequences (the cascade), objections and publication."""
