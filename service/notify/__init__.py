"""Notifications: escalation steps delivered to webhook URLs, signed per Standard Webhooks."""
