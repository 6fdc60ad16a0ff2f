"""Events and announcements: drafts, publishing, subscriptions and the broadcast outbox."""
