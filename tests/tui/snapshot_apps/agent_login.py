"""Snapshot app: the login screen with the advanced panel open."""

from ccd.store.db import CHINA_TZ
from tui.agent.app import AgentApp

app = AgentApp("/tmp/ccd-demo/ccd.sock", user="1001", now=lambda: 1767603605.0, tz=CHINA_TZ)

if __name__ == "__main__":
    app.run()
