"""Snapshot app: the main screen with the scripted daemon 'ringing'."""

from tests.tui.snapshot_apps.common import make_app

app = make_app("ringing")

if __name__ == "__main__":
    app.run()
