//! weir's RTMP answers against the original server's: the `_result` / `_error` of each client
//! command (matched by transaction id) and the `onStatus` codes.

use super::rtmp_stream::{command, Command};
use super::Findings;
use weir_core::rtmp::chunk::RawMessage;

/// The commands among `messages`.
pub fn commands<'a>(messages: impl IntoIterator<Item = &'a RawMessage>) -> Vec<Command> {
    messages.into_iter().filter_map(command).collect()
}

/// The answer (`_result` / `_error`) to transaction `t`.
fn answer(commands: &[Command], t: f64) -> Option<&Command> {
    commands
        .iter()
        .find(|c| c.transaction == t && (c.name == "_result" || c.name == "_error"))
}

/// Commands whose answer is optional: publishers send `releaseStream`, `FCPublish` and
/// `FCUnpublish` without waiting for an answer, and servers differ (nginx-rtmp sends none,
/// weir a `_result`).
fn optional_answer(name: &str) -> bool {
    matches!(
        name,
        "releaseStream"
            | "FCPublish"
            | "FCUnpublish"
            | "FCSubscribe"
            | "_checkbw"
            | "getStreamLength"
    )
}

/// Compares the answers to the client's commands and the status codes; differences that do
/// not matter to a client are recorded as known, others as failures.
pub fn compare_answers(
    client: &[Command],
    original: &[Command],
    weir: &[Command],
    findings: &mut Findings,
) {
    for c in client.iter().filter(|c| c.transaction > 0.0) {
        let (o, w) = (answer(original, c.transaction), answer(weir, c.transaction));
        match (o, w) {
            (Some(o), Some(w)) if o.name == w.name => {}
            (None, None) => {}
            _ if optional_answer(&c.name) => findings.known(format!(
                "`{}`: the original server answered {}, weir {}; the answer is optional and \
                 clients do not wait for it",
                c.name,
                o.map_or("nothing", |o| o.name.as_str()),
                w.map_or("nothing", |w| w.name.as_str()),
            )),
            (None, Some(w)) => findings.note(format!(
                "`{}`: the capture holds no answer from the original server; weir answered {}",
                c.name, w.name
            )),
            _ => findings.fail(format!(
                "`{}` (transaction {}): the original server answered {}, weir {}",
                c.name,
                c.transaction,
                o.map_or("nothing", |o| o.name.as_str()),
                w.map_or("nothing", |w| w.name.as_str()),
            )),
        }
    }
    let codes = |cs: &[Command]| -> Vec<String> {
        cs.iter()
            .filter(|c| c.name == "onStatus")
            .filter_map(|c| c.status_code().map(str::to_string))
            .collect()
    };
    let (o, w) = (codes(original), codes(weir));
    for code in o.iter().filter(|c| !w.contains(c)) {
        if code.ends_with(".Unpublish.Success") || code.ends_with(".Play.Stop") {
            findings.known(format!(
                "weir sends no onStatus `{code}` when the stream ends; the client is closing \
                 its stream and does not wait for it"
            ));
        } else {
            findings.fail(format!(
                "the original server sent onStatus `{code}`, weir did not"
            ));
        }
    }
    for code in w.iter().filter(|c| !o.contains(c)) {
        findings.note(format!(
            "weir sent onStatus `{code}`, the original server did not"
        ));
    }
}
