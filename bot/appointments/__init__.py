"""Appointments: slots from office hours, requests, confirmations, notices, calendar files and
reminders."""
