//! Embeds hls.js for the HLS player page when the source tree has it (`npm ci` at the
//! repository root installs the pinned version from `package-lock.json`), or when
//! `WEIR_HLSJS` names a `hls.min.js` file. Without it the page explains how to get it.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("hls.min.js");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("WEIR_HLSJS").map(PathBuf::from),
        Some(manifest.join("../node_modules/hls.js/dist/hls.min.js")),
    ];
    println!("cargo:rerun-if-env-changed=WEIR_HLSJS");
    println!("cargo:rerun-if-changed=../node_modules/hls.js/dist/hls.min.js");
    println!("cargo:rerun-if-changed=../package-lock.json");
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    let bytes = match &found {
        Some(p) => std::fs::read(p).expect("read hls.min.js"),
        None => {
            println!("cargo:warning=hls.js not found (run `npm ci` at the repository root): the HLS player page will not include it");
            Vec::new()
        }
    };
    std::fs::write(&out, bytes).expect("write hls.min.js");
}
