"""Disposable Debian sendmail hosts on loopback addresses, for the collection's tests and demo."""
