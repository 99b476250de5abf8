//! Frame capabilities: mappable physical memory.

use super::handle;
use crate::error::Result;
use crate::method::frame;

handle!(
    /// Physical memory that can be mapped into an address space.
    Frame
);

/// What `Frame.identify` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Physical base address.
    pub base: usize,
    /// Size in bytes.
    pub size: usize,
}

impl Frame {
    /// The frame's physical base and size.
    pub fn identify(self) -> Result<FrameInfo> {
        let [base, size, _] = self.invoke(frame::IDENTIFY, [0; 6])?;
        Ok(FrameInfo { base, size })
    }
}
