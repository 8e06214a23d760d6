//! Firmware for a Cortex-M4F (thumbv7em-none-eabihf): runs the whole TabNAS device search
//! on the chip and reports over semihosting. Start-up code, the clock and the I/O are
//! here; everything else is the library (`lib.rs`).
//!
//! 1. decode the packed `SearchConfig` and parse the model blob, both in flash;
//! 2. time every block of the latency table with the cycle counter (DWT CYCCNT, or
//!    SysTick where CYCCNT does not count, as under qemu);
//! 3. run `RlSearch` (rejection, Monte-Carlo P(V)) with child losses from the forward
//!    pass over the validation rows, cached;
//! 4. print the table, the losses, the answer, the answer's end-to-end latency, the
//!    time taken and the stack high-water mark, then exit through semihosting.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod chip;

/// On a host the binary only says what it is for (the library's tests run here).
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("tabnas-cm4 is firmware: build it with scripts/boards.sh (thumbv7em-none-eabihf)");
    std::process::exit(2);
}
