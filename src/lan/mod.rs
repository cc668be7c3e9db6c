//! LAN device discovery: what Picket knows about the other machines on this host's
//! networks, as opposed to how it finds them (scans, neighbour tables and device state
//! live in [`crate::sources::lan`]). So far that is which vendor a hardware address
//! belongs to, in [`oui`]; nothing here sends packets or stores anything.

pub mod oui;
