//! Links the code the server runs at start next to each other (`startup.order`, written by
//! `bench/startup-order.sh`). Spread over the whole text, that code keeps most of the binary
//! resident, since the kernel maps the pages around each one it faults in.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=startup.order");
    let target = env::var("TARGET").unwrap_or_default();
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    // The order is an option of LLD, the linker Rust uses by default on this target; a build
    // that picks another linker through its flags links without it.
    let other_linker = env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("link"));
    let order =
        Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("startup.order");
    // A build from the manifests alone (an image's dependency layer) has no order to give.
    if target != "x86_64-unknown-linux-gnu" || !release || other_linker || !order.exists() {
        return;
    }
    println!(
        "cargo:rustc-link-arg-bin=arcade=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    // Symbols the order names but this build lacks (another compiler, changed dependencies)
    // only lose their place; `bench/startup-order.sh check` tells when the file is stale.
    println!("cargo:rustc-link-arg-bin=arcade=-Wl,--no-warn-symbol-ordering");
}
