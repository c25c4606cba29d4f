//! The human-readable report of a capture: a header line, a table of TCP flows, a table of UDP
//! flows, the RTSP SETUPs, and (in the detailed form) RTSP messages and gaps.

use crate::flows::Protocol;
use crate::rtsp::RtspItem;
use crate::tcp::{HalfStream, RoleEvidence};
use crate::Capture;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// Formats rows as columns; `right[i]` right-aligns column `i`.
fn table(rows: &[Vec<String>], right: &[bool]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c].saturating_sub(cell.chars().count());
            if right.get(c).copied().unwrap_or(false) {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// "none", or "N (M B)" for a direction's gaps.
fn gaps(half: &HalfStream) -> String {
    if half.gaps.is_empty() {
        "none".to_string()
    } else {
        format!("{} ({} B)", half.gaps.len(), half.missing())
    }
}

pub(crate) fn summary(capture: &Capture) -> String {
    let info = capture.packets();
    let mut out = String::new();
    let name = capture
        .path()
        .map_or_else(|| "(bytes)".to_string(), |p| p.display().to_string());
    let links: Vec<String> = info.link_types.iter().map(ToString::to_string).collect();
    let span = info
        .packets
        .iter()
        .map(|p| p.timestamp)
        .max()
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{name}: {}, {}, {} frames, {} TCP/UDP packets, {} skipped, {} s",
        info.format,
        if links.is_empty() {
            "no interfaces".to_string()
        } else {
            links.join(" + ")
        },
        info.frames,
        info.packets.len(),
        info.skipped.len(),
        secs(span),
    );
    if let Some(why) = &info.truncated {
        let _ = writeln!(out, "file truncated or malformed: {why}");
    }
    if !info.skipped.is_empty() {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for skipped in &info.skipped {
            *reasons.entry(skipped.reason.to_string()).or_default() += 1;
        }
        let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let _ = writeln!(out, "skipped frames: {}", list.join(", "));
    }

    out.push_str("\nTCP flows\n");
    if capture.tcp_flows().is_empty() {
        out.push_str("  (none)\n");
    } else {
        let mut rows = vec![[
            "#",
            "proto",
            "client",
            "server",
            "c>s bytes",
            "pkts",
            "s>c bytes",
            "pkts",
            "gaps c>s",
            "gaps s>c",
            "retrans",
            "start",
            "end",
            "roles by",
        ]
        .map(String::from)
        .to_vec()];
        for (i, flow) in capture.tcp_flows().iter().enumerate() {
            let c = &flow.connection;
            let (up, down) = (&c.client_to_server, &c.server_to_client);
            rows.push(vec![
                i.to_string(),
                flow.protocol.to_string(),
                c.client.to_string(),
                c.server.to_string(),
                up.len().to_string(),
                up.packets.to_string(),
                down.len().to_string(),
                down.packets.to_string(),
                gaps(up),
                gaps(down),
                (up.retransmitted_bytes + down.retransmitted_bytes).to_string(),
                secs(c.first),
                secs(c.last),
                match c.roles {
                    RoleEvidence::Syn => "SYN",
                    RoleEvidence::SynAck => "SYN-ACK",
                    RoleEvidence::WellKnownPort => "port",
                    RoleEvidence::LowerPort => "lower port",
                }
                .to_string(),
            ]);
        }
        let right = [
            true, false, false, false, true, true, true, true, true, true, true, true, true,
        ];
        out.push_str(&table(&rows, &right));
    }

    out.push_str("\nUDP flows\n");
    if capture.udp_flows().is_empty() {
        out.push_str("  (none)\n");
    } else {
        let mut rows = vec![[
            "#",
            "kind",
            "src",
            "dst",
            "datagrams",
            "bytes",
            "start",
            "end",
            "RTSP",
        ]
        .map(String::from)
        .to_vec()];
        for (i, flow) in capture.udp_flows().iter().enumerate() {
            let first = flow
                .datagrams
                .first()
                .map(|d| d.timestamp)
                .unwrap_or_default();
            let last = flow
                .datagrams
                .last()
                .map(|d| d.timestamp)
                .unwrap_or_default();
            rows.push(vec![
                i.to_string(),
                flow.kind.to_string(),
                flow.src.to_string(),
                flow.dst.to_string(),
                flow.datagrams.len().to_string(),
                flow.bytes().to_string(),
                secs(first),
                secs(last),
                flow.rtsp.as_ref().map_or_else(
                    || "-".to_string(),
                    |l| format!("tcp {} setup {}", l.tcp_flow, l.setup),
                ),
            ]);
        }
        out.push_str(&table(
            &rows,
            &[true, false, false, false, true, true, true, true],
        ));
    }

    let mut setup_rows = vec![[
        "tcp",
        "setup",
        "status",
        "client_port",
        "server_port",
        "interleaved",
        "udp flows",
        "uri",
    ]
    .map(String::from)
    .to_vec()];
    for (i, flow) in capture.tcp_flows().iter().enumerate() {
        if flow.protocol != Protocol::Rtsp {
            continue;
        }
        for (n, setup) in capture.rtsp_setups(i).iter().enumerate() {
            let pair = |p: Option<(u16, u16)>| {
                p.map_or_else(|| "-".to_string(), |(a, b)| format!("{a}-{b}"))
            };
            setup_rows.push(vec![
                i.to_string(),
                n.to_string(),
                setup
                    .status
                    .map_or_else(|| "-".to_string(), |s| s.to_string()),
                pair(setup.client_port),
                pair(setup.server_port),
                setup
                    .interleaved
                    .map_or_else(|| "-".to_string(), |(a, b)| format!("{a}-{b}")),
                if setup.udp_flows.is_empty() {
                    "-".to_string()
                } else {
                    setup
                        .udp_flows
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                },
                setup.uri.clone(),
            ]);
        }
    }
    if setup_rows.len() > 1 {
        out.push_str("\nRTSP SETUPs\n");
        out.push_str(&table(&setup_rows, &[true, true, true]));
    }
    out
}

pub(crate) fn details(capture: &Capture) -> String {
    let mut out = summary(capture);
    for (i, flow) in capture.tcp_flows().iter().enumerate() {
        let c = &flow.connection;
        for (label, half) in [("c>s", &c.client_to_server), ("s>c", &c.server_to_client)] {
            for gap in &half.gaps {
                let _ = writeln!(
                    out,
                    "tcp {i} {label}: gap of {} B at stream offset {} (before chunk {})",
                    gap.len, gap.offset, gap.before_chunk
                );
            }
        }
        if flow.protocol != Protocol::Rtsp {
            continue;
        }
        let _ = writeln!(out, "\ntcp {i} RTSP ({} -> {})", c.client, c.server);
        let mut items: Vec<(u64, &str, RtspItem)> = Vec::new();
        items.extend(flow.client_rtsp().into_iter().map(|m| (0, "C", m)));
        items.extend(flow.server_rtsp().into_iter().map(|m| (1, "S", m)));
        let mut interleaved = [0usize; 2];
        for (side, who, item) in &items {
            match item {
                RtspItem::Message(m) => {
                    let _ = writeln!(out, "  {who} @{:>8}  {}", m.offset, m.start_line);
                }
                RtspItem::Interleaved { .. } => interleaved[*side as usize] += 1,
            }
        }
        if interleaved != [0, 0] {
            let _ = writeln!(
                out,
                "  interleaved frames: {} from the client, {} from the server",
                interleaved[0], interleaved[1]
            );
        }
    }
    out
}
