"""DAHDI analog boards: `ioctl` (the ABI of include/dahdi/user.h, pure), `channel` (one channel
over an injectable os-like backend), `driver.DahdiDriver`, and `discover` (/proc/dahdi, sysfs).
"""
