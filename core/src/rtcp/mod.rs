//! RTCP (RFC 3550 §6): sender and receiver reports, SDES, BYE, and compound packets.
