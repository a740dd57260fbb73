"""A USB voice box as a pyusb backend (`usb.backend.IBackend`): descriptors and HID interrupt reports.

`usb.core.find(backend=FakeUsbBox(...))` sees one composite device: USB Audio Class
interfaces (control + streaming) and a HID interface with an interrupt IN endpoint (and an
OUT endpoint when the box takes output reports), as a real box enumerates. Tests push
input reports with `report()`, pull the box out with `unplug()` and back with `replug()`,
and check what the driver did: `claimed`, `detached`, `set_configuration_calls`, `written`.

The backend's interrupt read waits for a report up to the driver's timeout (capped at 50 ms)
and raises pyusb's timeout error otherwise, like libusb.
"""

from __future__ import annotations

import errno
import queue
from dataclasses import dataclass, field

import usb.backend
import usb.core


@dataclass
class _Desc:
    """Any USB descriptor: pyusb reads its fields as attributes."""

    fields: dict[str, object]
    extra_descriptors: list[int] = field(default_factory=list)

    def __getattr__(self, name: str) -> object:
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None


class _Dev:
    """The opaque device object the backend hands to pyusb."""

    def __init__(self, bus: int, address: int) -> None:
        self.bus, self.address = bus, address


class FakeUsbBox(usb.backend.IBackend):
    AUDIO, HID = 0x01, 0x03

    def __init__(self, vid: int, pid: int, hid_interface: int = 2, ep_in: int = 0x81, ep_out: int | None = 0x01,
                 audio_interfaces: tuple[int, ...] = (0, 1)) -> None:  # fmt: skip
        super().__init__()
        self.vid, self.pid = vid, pid
        self.hid_interface = hid_interface
        self.ep_in, self.ep_out = ep_in, ep_out
        self.audio_interfaces = audio_interfaces
        self.plugged = True
        self.kernel_driver = {i: True for i in (*audio_interfaces, hid_interface)}  # usbhid / snd-usb-audio
        self.claimed: set[int] = set()
        self.detached: list[int] = []
        self.set_configuration_calls = 0
        self.written: list[bytes] = []
        self._reports: queue.Queue[bytes] = queue.Queue()
        self._dev = _Dev(1, 7)
        self._ifaces = sorted((*audio_interfaces, hid_interface))

    # ---------------------------------------------------------------- test controls

    def report(self, data: bytes) -> None:
        self._reports.put(bytes(data))

    def unplug(self) -> None:
        self.plugged = False

    def replug(self) -> None:
        self._reports = queue.Queue()
        self.kernel_driver = {i: True for i in self._ifaces}
        self.claimed.clear()
        self._dev = _Dev(1, self._dev.address + 1)  # a replugged device gets a new address
        self.plugged = True

    # ---------------------------------------------------------------- descriptors

    def enumerate_devices(self) -> list[_Dev]:
        return [self._dev] if self.plugged else []

    def get_device_descriptor(self, dev: _Dev) -> _Desc:
        return _Desc(dict(bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
                          bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=self.vid, idProduct=self.pid,
                          bcdDevice=0x0100, iManufacturer=0, iProduct=0, iSerialNumber=0, bNumConfigurations=1,
                          address=dev.address, bus=dev.bus, port_number=1, port_numbers=(1,), speed=2))  # fmt: skip

    def get_configuration_descriptor(self, dev: _Dev, config: int) -> _Desc:
        return _Desc(dict(bLength=9, bDescriptorType=2, wTotalLength=100, bNumInterfaces=len(self._ifaces),
                          bConfigurationValue=1, iConfiguration=0, bmAttributes=0x80, bMaxPower=50))  # fmt: skip

    def _endpoints(self, intf: int) -> list[int]:
        if intf == self.hid_interface:
            return [self.ep_in] + ([self.ep_out] if self.ep_out is not None else [])
        if intf == self.audio_interfaces[-1]:
            return [0x83]  # isochronous audio IN (snd-usb-audio's business)
        return []

    def get_interface_descriptor(self, dev: _Dev, intf: int, alt: int, config: int) -> _Desc:
        if alt > 0:
            raise IndexError("no alternate setting")  # pyusb walks alternate settings until this
        number = self._ifaces[intf]
        cls = self.HID if number == self.hid_interface else self.AUDIO
        sub = 0 if cls == self.HID else (1 if number == self.audio_interfaces[0] else 2)
        return _Desc(dict(bLength=9, bDescriptorType=4, bInterfaceNumber=number, bAlternateSetting=0,
                          bNumEndpoints=len(self._endpoints(number)), bInterfaceClass=cls, bInterfaceSubClass=sub,
                          bInterfaceProtocol=0, iInterface=0))  # fmt: skip

    def get_endpoint_descriptor(self, dev: _Dev, ep: int, intf: int, alt: int, config: int) -> _Desc:
        number = self._ifaces[intf]
        address = self._endpoints(number)[ep]
        attrs = 0x03 if number == self.hid_interface else 0x05  # interrupt / isochronous
        return _Desc(dict(bLength=7, bDescriptorType=5, bEndpointAddress=address, bmAttributes=attrs,
                          wMaxPacketSize=64, bInterval=10, bRefresh=0, bSynchAddress=0))  # fmt: skip

    # ---------------------------------------------------------------- handles and transfers

    def _alive(self) -> None:
        if not self.plugged:
            raise usb.core.USBError("No such device (it may have been disconnected)", errno=errno.ENODEV)

    def open_device(self, dev: _Dev) -> _Dev:
        self._alive()
        return dev

    def close_device(self, dev_handle: _Dev) -> None:
        pass

    def set_configuration(self, dev_handle: _Dev, config_value: int) -> None:
        self.set_configuration_calls += 1  # the driver must never do this on a composite audio box

    def get_configuration(self, dev_handle: _Dev) -> int:
        self._alive()
        return 1

    def claim_interface(self, dev_handle: _Dev, intf: int) -> None:
        self._alive()
        if self.kernel_driver.get(intf):
            raise usb.core.USBError("Resource busy", errno=errno.EBUSY)
        self.claimed.add(intf)

    def release_interface(self, dev_handle: _Dev, intf: int) -> None:
        self.claimed.discard(intf)

    def is_kernel_driver_active(self, dev_handle: _Dev, intf: int) -> bool:
        self._alive()
        return bool(self.kernel_driver.get(intf))

    def detach_kernel_driver(self, dev_handle: _Dev, intf: int) -> None:
        self._alive()
        self.kernel_driver[intf] = False
        self.detached.append(intf)

    def attach_kernel_driver(self, dev_handle: _Dev, intf: int) -> None:
        self.kernel_driver[intf] = True

    def intr_read(self, dev_handle: _Dev, ep: int, intf: int, buff: object, timeout: int) -> int:
        self._alive()
        if intf not in self.claimed:
            raise usb.core.USBError("interface not claimed", errno=errno.EINVAL)
        try:
            data = self._reports.get(timeout=min(timeout, 50) / 1000)
        except queue.Empty:
            self._alive()
            raise usb.core.USBTimeoutError("Operation timed out", errno=errno.ETIMEDOUT) from None
        n = min(len(data), len(buff))  # type: ignore[arg-type]
        for i in range(n):
            buff[i] = data[i]  # type: ignore[index]
        return n

    def intr_write(self, dev_handle: _Dev, ep: int, intf: int, data: object, timeout: int) -> int:
        self._alive()
        self.written.append(bytes(data))  # type: ignore[call-overload]
        return len(data)  # type: ignore[arg-type]
