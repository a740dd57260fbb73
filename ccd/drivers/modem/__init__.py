"""V.253 voice modems (USR 5637, Conexant CX93001 class, generic): one modem is one trunk line.

`driver.ModemDriver` is the async shell; `parser`, `dle`, `cid`, `profiles`, `audio` are
pure and tested on their own; `discover` finds ports by USB VID:PID.
"""
