//! RTSP status codes and their reason phrases (RFC 2326 §7.1.1).

/// Status codes with their reason phrases, as listed in RFC 2326 §7.1.1.
const TABLE: [(u16, &str); 46] = [
    (100, "Continue"),
    (200, "OK"),
    (201, "Created"),
    (250, "Low on Storage Space"),
    (300, "Multiple Choices"),
    (301, "Moved Permanently"),
    (302, "Moved Temporarily"),
    (303, "See Other"),
    (304, "Not Modified"),
    (305, "Use Proxy"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Time-out"),
    (410, "Gone"),
    (411, "Length Required"),
    (412, "Precondition Failed"),
    (413, "Request Entity Too Large"),
    (414, "Request-URI Too Large"),
    (415, "Unsupported Media Type"),
    (451, "Parameter Not Understood"),
    (452, "Conference Not Found"),
    (453, "Not Enough Bandwidth"),
    (454, "Session Not Found"),
    (455, "Method Not Valid in This State"),
    (456, "Header Field Not Valid for Resource"),
    (457, "Invalid Range"),
    (458, "Parameter Is Read-Only"),
    (459, "Aggregate Operation Not Allowed"),
    (460, "Only Aggregate Operation Allowed"),
    (461, "Unsupported Transport"),
    (462, "Destination Unreachable"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Gateway Time-out"),
    (505, "RTSP Version Not Supported"),
    (551, "Option Not Supported"),
    // Not in RFC 2326's table but defined by RFC 7826 and sent by some servers.
    (464, "Data Transport Not Ready Yet"),
    (470, "Connection Authorization Required"),
];

/// The reason phrase for `status` (e.g. 454 → `"Session Not Found"`); unknown codes give
/// `"Unknown"`.
pub fn reason_phrase(status: u16) -> &'static str {
    TABLE
        .iter()
        .find(|(code, _)| *code == status)
        .map_or("Unknown", |(_, phrase)| phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_phrases() {
        let table = [
            (200, "OK"),
            (400, "Bad Request"),
            (401, "Unauthorized"),
            (404, "Not Found"),
            (405, "Method Not Allowed"),
            (406, "Not Acceptable"),
            (413, "Request Entity Too Large"),
            (414, "Request-URI Too Large"),
            (451, "Parameter Not Understood"),
            (453, "Not Enough Bandwidth"),
            (454, "Session Not Found"),
            (455, "Method Not Valid in This State"),
            (457, "Invalid Range"),
            (459, "Aggregate Operation Not Allowed"),
            (460, "Only Aggregate Operation Allowed"),
            (461, "Unsupported Transport"),
            (500, "Internal Server Error"),
            (501, "Not Implemented"),
            (503, "Service Unavailable"),
            (505, "RTSP Version Not Supported"),
            (551, "Option Not Supported"),
        ];
        for (code, phrase) in table {
            assert_eq!(reason_phrase(code), phrase, "{code}");
        }
    }

    #[test]
    fn unknown_codes() {
        for code in [0, 199, 299, 409, 999, u16::MAX] {
            assert_eq!(reason_phrase(code), "Unknown", "{code}");
        }
    }

    #[test]
    fn table_has_no_duplicates() {
        for (i, (a, _)) in TABLE.iter().enumerate() {
            assert!(TABLE[i + 1..].iter().all(|(b, _)| a != b), "{a}");
        }
    }
}
