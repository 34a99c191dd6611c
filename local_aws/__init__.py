"""The embedded AWS emulator: moto's server on loopback plus documented shims."""
