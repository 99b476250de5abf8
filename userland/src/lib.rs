//! The user-space library for EL0 programs (issue 5 onwards).
#![no_std]
