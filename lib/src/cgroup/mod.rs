//! cgroups v1 and v2.
//!
//! INTERFACE (being implemented): see the brief.
