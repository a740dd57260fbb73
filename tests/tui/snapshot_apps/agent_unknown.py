"""Snapshot app: the main screen with the scripted daemon 'unknown'."""

from tests.tui.snapshot_apps.common import make_app

app = make_app("unknown")

if __name__ == "__main__":
    app.run()
