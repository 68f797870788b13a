//! The `peftcost` binary: parse the command line, run it, map errors to exit codes.

fn main() {
    std::process::exit(peftcost::cli::main());
}
