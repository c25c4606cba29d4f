//! Runs one benchmark workload a fixed number of times, for instruction counting under
//! callgrind (`scripts/callgrind.sh`): wall-clock time on a shared machine is noisy, the
//! instruction count of a fixed number of operations is not.
//!
//! `bench_once list` prints every workload as `name<TAB>kind<TAB>amount` (kind `bytes` or
//! `elements`: what one operation handles). `bench_once run NAME N` prepares NAME, runs it
//! `WARMUP` times, then N times inside [`weir_bench_measured_loop`], the one function the
//! callgrind script collects (`--toggle-collect`).

use criterion::Throughput;
use weir_benches::{all_areas, Runner};

/// Operations run before the measured loop (first-touch allocations, caches of the workload).
const WARMUP: u64 = 16;

/// The measured loop: `n` operations. Never inlined, so callgrind can collect exactly it.
#[inline(never)]
fn weir_bench_measured_loop<F: FnMut()>(op: &mut F, n: u64) {
    for _ in 0..n {
        op();
    }
}

/// Lists every workload.
struct Lister;

impl Runner for Lister {
    fn run<F: FnMut()>(&mut self, name: &str, throughput: Throughput, _op: F) {
        let (kind, amount) = match throughput {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => ("bytes", b),
            Throughput::Elements(e) => ("elements", e),
            Throughput::Bits(b) => ("bits", b),
        };
        println!("{name}\t{kind}\t{amount}");
    }
}

/// Runs the workload called `name`, `n` times.
struct Once {
    name: String,
    n: u64,
    found: bool,
}

impl Runner for Once {
    fn run<F: FnMut()>(&mut self, name: &str, _throughput: Throughput, mut op: F) {
        if name != self.name {
            return;
        }
        self.found = true;
        for _ in 0..WARMUP {
            op();
        }
        weir_bench_measured_loop(&mut op, self.n);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["list"] => {
            for (_, area) in all_areas::<Lister>() {
                area(&mut Lister);
            }
        }
        ["run", name, n] => {
            let n: u64 = n.parse().expect("N must be a number");
            let mut once = Once {
                name: name.to_owned(),
                n,
                found: false,
            };
            let area = name.split('/').next().unwrap_or_default();
            for (a, workloads) in all_areas::<Once>() {
                if a == area {
                    workloads(&mut once);
                }
            }
            if !once.found {
                eprintln!("bench_once: no workload named {name} (see `bench_once list`)");
                std::process::exit(2);
            }
        }
        _ => {
            eprintln!("usage: bench_once list | bench_once run NAME N");
            std::process::exit(2);
        }
    }
}
