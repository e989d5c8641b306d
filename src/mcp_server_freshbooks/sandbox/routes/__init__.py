"""HTTP routes, one module per API family: accounting, business (projects, time tracking,
comments), identity, OAuth and the loopback-only debug endpoints."""
