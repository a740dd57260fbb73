"""`ccd.toml`: typed configuration sections, a loader that reports every problem with its line.

from ccd.config import load_config
config = load_config("ccd.toml")        # raises ConfigError listing all problems
config.daemon.socket, config.trunks, config.line("1"), config.driver("office")
"""

from ccd.config.loader import check_file, check_text, config_from_text, load_config, validate_config
from ccd.config.problems import ConfigError, Problem
from ccd.config.schema import (
    DRIVER_KINDS,
    Config,
    DaemonConfig,
    DahdiOptions,
    DriverConfig,
    ExtensionConfig,
    InboundRule,
    ModemOptions,
    OutboundRule,
    SimOptions,
    SmsOptions,
    ToneSpec,
    TrafficConfig,
    TrunkConfig,
    UsbboxOptions,
    UserConfig,
    register_driver_kind,
)

__all__ = [
    "DRIVER_KINDS",
    "Config",
    "ConfigError",
    "DaemonConfig",
    "DahdiOptions",
    "DriverConfig",
    "ExtensionConfig",
    "InboundRule",
    "ModemOptions",
    "OutboundRule",
    "Problem",
    "SimOptions",
    "SmsOptions",
    "ToneSpec",
    "TrafficConfig",
    "TrunkConfig",
    "UsbboxOptions",
    "UserConfig",
    "check_file",
    "check_text",
    "config_from_text",
    "load_config",
    "register_driver_kind",
    "validate_config",
]
