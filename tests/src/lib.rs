//! QEMU runner for the integration tests.
