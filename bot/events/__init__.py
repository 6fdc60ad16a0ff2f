"""Events and announcements: drafts, publishing, subscriptions and broadcasts."""
