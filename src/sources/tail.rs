//! Rotation-proof file tailing (filled in by the tailer work).
