"""USB voice boxes, driven declaratively: `profile` (a TOML profile per box model, checked),
`reports` (HID reports -> line events, pure) and `driver.UsbBoxDriver` (pyusb, HID interface only).
Shipped profiles are in `profiles/`; docs/usbbox.md tells how to write one from a usbmon capture.
"""
