"""The Unix-socket server: auth, roles, sessions, subscriptions; see docs/protocol.md."""
