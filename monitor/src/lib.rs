//! The per-core EL0 monitor and its replicated-state protocol (issue 8).
#![no_std]
