//! A spawned program's session with its core's monitor (the `Session`
//! interface over LMP): the client, the status codes its replies carry,
//! and program ids.

use crate::cap::Endpoint;
use crate::channel::Lmp;
use crate::cptr::{SESSION_EVENTS_SLOT, SESSION_REPLY_SLOT, SESSION_SLOT};
use crate::interfaces::SessionClient;

/// `Session.spawn`'s core for "the caller's core".
pub const THIS_CORE: u32 = u32::MAX;
/// Event index of the session's replies.
pub const EVENT_REPLY: u32 = 0;
/// Event index of the monitor's wake-ups (`SESSION_EVENTS`).
pub const EVENT_WAKE: u32 = 1;
/// The receive slot for capabilities (the session sends none).
const RECEIVE_SLOT: usize = crate::cptr::FIRST_FREE_SLOT;

/// What a session request came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Status {
    /// Done.
    Ok = 0,
    /// No such program, name, core or id.
    NotFound = 1,
    /// The name is taken (or the service already has its client).
    Exists = 2,
    /// Not enough RAM or slots.
    NoMemory = 3,
    /// The core is not online.
    CoreDown = 4,
    /// This monitor cannot do that (e.g. the terminal is on another core).
    NotHere = 5,
    /// The monitors did not agree in time.
    Timeout = 6,
    /// The program could not be started (not an executable, too large).
    BadProgram = 7,
    /// Something else failed.
    Failed = 8,
    /// Not allowed (ending the caller itself, or the terminal's reader).
    Refused = 9,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 10] = [
        Status::Ok,
        Status::NotFound,
        Status::Exists,
        Status::NoMemory,
        Status::CoreDown,
        Status::NotHere,
        Status::Timeout,
        Status::BadProgram,
        Status::Failed,
        Status::Refused,
    ];

    /// The status with code `code` (unknown codes are `Failed`).
    pub fn from_code(code: u32) -> Status {
        Status::ALL.into_iter().find(|s| *s as u32 == code).unwrap_or(Status::Failed)
    }

    /// What it means, for an `error: ...` line.
    pub fn message(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NotFound => "not found",
            Status::Exists => "already exists",
            Status::NoMemory => "out of memory",
            Status::CoreDown => "core not online",
            Status::NotHere => "not possible on this core",
            Status::Timeout => "the monitors did not answer in time",
            Status::BadProgram => "not a program this system can run",
            Status::Failed => "failed",
            Status::Refused => "refused (the caller itself, or the program reading the terminal)",
        }
    }

    /// `Ok(())` for [`Status::Ok`], the status otherwise.
    pub fn check(code: u32) -> Result<(), Status> {
        match Status::from_code(code) {
            Status::Ok => Ok(()),
            other => Err(other),
        }
    }
}

/// A program's id: its core and its number there.
pub fn id(core: u32, n: u32) -> u64 {
    u64::from(core) << 32 | u64::from(n)
}

/// The core and number of program id `id`.
pub fn split_id(id: u64) -> (u32, u32) {
    ((id >> 32) as u32, id as u32)
}

/// Writes id `id` as `<core>.<n>`.
pub struct Id(pub u64);

impl core::fmt::Display for Id {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (core, n) = split_id(self.0);
        write!(f, "{core}.{n}")
    }
}

/// Reads an id written as `<core>.<n>`.
pub fn parse_id(text: &str) -> Option<u64> {
    let (core, n) = text.split_once('.')?;
    Some(id(core.parse().ok()?, n.parse().ok()?))
}

/// The calling program's session (spawned programs only: a first program
/// has no monitor to talk to).
pub fn connect() -> SessionClient<Lmp> {
    let transport = Lmp::new(Endpoint::at(SESSION_SLOT), Endpoint::at(SESSION_REPLY_SLOT), EVENT_REPLY)
        .with_receive_slot(RECEIVE_SLOT);
    SessionClient::new(transport)
}

/// The endpoint the monitor's wake-ups arrive on.
pub fn events() -> Endpoint {
    Endpoint::at(SESSION_EVENTS_SLOT)
}

#[cfg(test)]
mod tests {
    use super::{parse_id, split_id, Id, Status};

    #[test]
    fn ids_round_trip() {
        let id = super::id(7, 42);
        assert_eq!(split_id(id), (7, 42));
        assert_eq!(parse_id(&format!("{}", Id(id))), Some(id));
        assert_eq!(parse_id("7"), None);
        assert_eq!(parse_id("x.1"), None);
        assert_eq!(parse_id("1.-1"), None);
    }

    #[test]
    fn statuses_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_code(status as u32), status);
        }
        assert_eq!(Status::from_code(999), Status::Failed);
        assert_eq!(Status::check(0), Ok(()));
    }
}
