//! Rebuilds herald when a shipped file that `herald init` embeds changes.

fn main() {
    for dir in ["config", "recipients", "templates"] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
