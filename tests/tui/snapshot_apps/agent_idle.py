"""Snapshot app: the main screen with the scripted daemon 'idle'."""

from tests.tui.snapshot_apps.common import make_app

app = make_app("idle")

if __name__ == "__main__":
    app.run()
