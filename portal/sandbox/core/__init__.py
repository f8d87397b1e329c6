"""What both emulators share: storage, clock, faults, stats, the control API and the server."""
