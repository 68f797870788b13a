//! The `peftcost` binary: parse the command line, run it, map errors to exit codes.

/// A caching allocator: candle's training steps allocate and free large tensors every step, and
/// the system allocator hands them back to the kernel each time. Real training frameworks cache
/// that memory (PyTorch's caching allocator), so `peftcost bench` should too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(peftcost::run_cli());
}
