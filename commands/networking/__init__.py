"""Networking: partner requests and moderated speed-dating rounds."""
