//! QEMU virt board.
#![no_std]
#![no_main]
