"""The checklist of a sampled project, from the notice's three standards."""
