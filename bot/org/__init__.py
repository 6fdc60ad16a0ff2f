"""The organisation's own data: locations, office hours, contacts and emergency numbers."""
