//! SDP (RFC 8866): a lenient parser that accepts what real cameras write, and a writer.
