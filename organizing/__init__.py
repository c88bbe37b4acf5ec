"""The organizer side: accounts, per-letter memberships and roles, permissions, authoring and the dashboard."""
