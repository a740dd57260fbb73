"""USB voice boxes, driven declaratively: `profile` (a TOML profile per box model, checked),
`reports` (HID reports -> line events, pure), `audio` (the box's sound card through arecord/aplay)
and `driver.UsbBoxDriver` (pyusb on the HID interface, plus the audio when configured).
Shipped profiles are in `profiles/`; docs/usbbox.md tells how to write one from a usbmon capture.
"""
