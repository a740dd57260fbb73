"""SMS through a GSM/4G module: `pdu` (SMS PDUs, GSM 7-bit and UCS2, concatenation) and `at`
(the module's answers) are pure; `driver.SmsDriver` is the async shell over pyserial.
"""
