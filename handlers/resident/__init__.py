"""What residents see in a private chat: onboarding, menu, requests, appointments, events, quick
answers, privacy."""
