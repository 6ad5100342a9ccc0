//! The `herald` binary: parse the command line, run, map the outcome to an exit status.

use std::process::ExitCode;

/// mimalloc instead of the C library's allocator. Rendering a letter makes about two hundred
/// small allocations (template helpers, header encoding, the message itself), and loading a large
/// directory frees on one thread what another allocated: with glibc's malloc, allocating and
/// freeing were a quarter of the instructions of a dry run (bench/RESULTS.md, run 8). Built with
/// `no_thp`: with transparent huge pages, mimalloc doubled the peak memory of a small run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    herald::main()
}
